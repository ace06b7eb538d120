"""The BN rank chain (Daneshmand et al. 2020, eq. 1-4) against a direct simulation of H, and its statistics."""

import math

import numpy as np
import pytest
from scipy import stats

from sigdist import Layer, Network, SigdistWarning
from sigdist.batchnorm import bn_step
from sigdist.rank import rank_bound, soft_rank
from sigdist.rank_chain import RankChain, RankChainResult


def _chain(width, gamma, weight_law="gaussian", **kwargs):
    return RankChain(Network.bn_chain(width, gamma=gamma, weight_law=weight_law), **kwargs)


def _direct_traces(d, n, gamma, n_networks, seed, steps, tau, center=False, law="gaussian"):
    """Notebook-style reference: the d x N matrix H itself, one chain at a time, same random streams."""
    gens = [np.random.Generator(np.random.PCG64(s)) for s in np.random.SeedSequence(seed).spawn(n_networks)]
    r, s = np.zeros((steps, n_networks)), np.zeros((steps, n_networks))
    for k, g in enumerate(gens):
        H = g.standard_normal((d, n))
        for step in range(steps):
            W = g.standard_normal((d, d)) if law == "gaussian" else math.sqrt(3) * (2 * g.random((d, d)) - 1)
            H = bn_step(H, W, gamma, center=center)  # centring at every layer, as real BN does
            r[step, k], s[step, k] = rank_bound(H), soft_rank(H, tau)
    return r, s


@pytest.mark.parametrize("d, n, gamma, center, law", [
    (12, 12, 0.5, False, "gaussian"),
    (12, 5, math.inf, False, "gaussian"),   # N < d: factor d x N
    (6, 20, 1.0, False, "uniform"),        # N > d: compressed d x d factor
    (10, 15, 0.1, True, "gaussian"),       # centring acts on H_0 only, and matches centring at every layer
])
def test_chain_equals_direct_simulation_of_H(d, n, gamma, center, law):
    steps, K = 40, 3
    res = _chain(d, gamma, law, n_networks=K, batch=n, seed=11, center=center).run(steps, tau=0.5)
    r, s = _direct_traces(d, n, gamma, K, 11, steps, 0.5, center=center, law=law)
    np.testing.assert_allclose(res.r_network_means, r.mean(0), rtol=1e-11)
    np.testing.assert_allclose(res.soft_rank_network_means, s.mean(0), rtol=1e-12)


def test_sigma_w2_scales_the_residual_branch():
    # W = sqrt(sigma_w2) u: gamma = 0.5 with sigma_w2 = 4 is gamma = 1 with unit weights, bit for bit
    a = RankChain(Layer(8, 4.0, activation="linear", batch_norm=True, gamma=0.5), seed=1).run(50, tau=0.5)
    b = _chain(8, 1.0, seed=1).run(50, tau=0.5)
    np.testing.assert_array_equal(a.trace_r, b.trace_r)
    # without a skip connection BN removes the weights' scale altogether
    c = RankChain(Layer(8, 4.0, activation="linear", batch_norm=True), seed=1).run(50, tau=0.5)
    np.testing.assert_allclose(c.trace_r, _chain(8, math.inf, seed=1).run(50, tau=0.5).trace_r, rtol=1e-12)


def test_a_chain_does_not_depend_on_its_neighbours():
    one = _chain(16, 0.5, n_networks=1, seed=5).run(60, tau=0.5)
    three = _chain(16, 0.5, n_networks=3, seed=5).run(60, tau=0.5)
    assert one.r_network_means[0] == three.r_network_means[0]
    again = _chain(16, 0.5, n_networks=3, seed=5).run(60, tau=0.5)
    np.testing.assert_array_equal(three.r_network_means, again.r_network_means)


def test_lemma1_holds_along_chains():
    for d, n, gamma, tau in ((16, 16, 0.5, 0.5), (32, 8, math.inf, 0.2), (8, 30, 0.1, 0.9)):
        res = _chain(d, gamma, n_networks=4, batch=n, seed=1).run(300, burn_in=20, tau=tau)
        assert res.lemma1_violations == 0  # second part: rank_tau >= (1 - tau)^2 r at every recorded step
        # first part, rank(H) >= r(H) >= 1, on every traced step: rank(H) <= min(d, N) (not implied by the above)
        assert np.all(res.trace_r <= min(d, n) * (1 + 1e-12)) and np.all(res.trace_r >= 1 - 1e-12)


def test_lemma1_counter_counts_every_violation(monkeypatch):
    # a soft rank of 0 violates rank_tau >= (1 - tau)^2 r at every step recorded for both statistics
    original = RankChain._advance_numpy

    def zero_soft_rank(self, size, rec_r, rec_s):
        r_vals, s_vals = original(self, size, rec_r, rec_s)
        return r_vals, np.where(np.isnan(s_vals), np.nan, 0.0)

    monkeypatch.setattr(RankChain, "_advance_numpy", zero_soft_rank)
    res = _chain(8, 0.5, n_networks=3, seed=0).run(100, burn_in=10, tau=0.5, soft_rank_thin=3)
    assert res.lemma1_violations == 3 * (100 // 3 - 10 // 3)


def test_standard_error_matches_the_spread_of_independent_chains():
    # the spread of 24 independent chains' means is a second, model-free route to the s.e.: between / sigma is
    # sqrt(chi2_23 / 23), r_mean_se / sigma about sqrt(chi2_{B-1} / (B-1)) over the B pooled blocks, so their ratio is
    # sqrt(F(B-1, 23)); batch means underestimate the variance by O(tau_int / block_len) (Flegal & Jones 2010)
    K = 24
    res = _chain(16, 0.5, n_networks=K, seed=3).run(3000, burn_in=200, tau=0.5)
    between = res.r_network_means.std(ddof=1) / math.sqrt(K)
    B = K * res.n_blocks
    lo, hi = (math.sqrt(stats.f.ppf(q, B - 1, K - 1)) for q in (0.005, 0.995))
    lo *= 1 - res.tau_int_r / res.block_len
    assert lo < res.r_mean_se / between < hi, (lo, res.r_mean_se / between, hi)
    assert res.tau_int_r > 0.5  # consecutive BN layers are positively correlated


def test_a_numerical_failure_rolls_back_to_the_committed_block(monkeypatch):
    chain = _chain(6, 0.5, seed=8)
    chain.run(100, tau=0.5)
    original = RankChain._advance_numpy

    def failing(self, size, rec_r, rec_s):
        original(self, size, rec_r, rec_s)
        raise FloatingPointError("injected")

    monkeypatch.setattr(RankChain, "_advance_numpy", failing)
    with pytest.raises(FloatingPointError):
        chain.run(300, tau=0.5)
    monkeypatch.setattr(RankChain, "_advance_numpy", original)
    assert chain.n_steps == 100
    assert chain.run(300, tau=0.5).r_mean == _chain(6, 0.5, seed=8).run(300, tau=0.5).r_mean


def test_continued_run_must_keep_its_settings():
    chain = _chain(8, 0.5, seed=0)
    chain.run(100, burn_in=10, tau=0.5)
    with pytest.raises(ValueError, match="keep burn_in"):
        chain.run(200, burn_in=10, tau=0.3)


def test_torch_backend_agrees_in_law_with_numpy():
    pytest.importorskip("torch")
    kwargs = dict(n_networks=8, seed=2)
    a = _chain(16, 0.5, **kwargs).run(2500, burn_in=200, tau=0.5)
    b = _chain(16, 0.5, backend="torch", device="cpu", **kwargs).run(2500, burn_in=200, tau=0.5)
    z = (a.r_mean - b.r_mean) / math.hypot(a.r_mean_se, b.r_mean_se)
    assert abs(z) < 4, z
    assert b.lemma1_violations == 0
    again = _chain(16, 0.5, backend="torch", device="cpu", **kwargs).run(2500, burn_in=200, tau=0.5)
    assert again.r_mean == b.r_mean  # same seed, same device, same numbers
    seq = _chain(16, 0.5, backend="torch", device="cpu", n_networks=2, seed=np.random.SeedSequence(4))
    assert seq.run(50, tau=0.5).lemma1_violations == 0


def test_float32_chain_agrees_in_law():
    a = _chain(16, math.inf, n_networks=8, seed=6).run(2500, burn_in=200, tau=0.5)
    b = _chain(16, math.inf, n_networks=8, seed=7, dtype=np.float32).run(2500, burn_in=200, tau=0.5)
    assert b.lemma1_violations == 0
    assert abs(a.r_mean - b.r_mean) < 4 * math.hypot(a.r_mean_se, b.r_mean_se)


def test_result_is_a_short_labelled_result():
    res = _chain(4, 0.5, n_networks=2, seed=0).run(300, tau=0.5)
    assert isinstance(res, RankChainResult)
    assert len(repr(res).splitlines()) < 30 and "..." in repr(res)  # the 300-step trace is not printed
    ds = res.to_xarray()
    assert ds["trace_r"].dims == ("step", "network")
    np.testing.assert_array_equal(ds["step"].values, res.trace_steps)
    assert float(ds["r_mean"]) == res.r_mean
    with pytest.raises(AttributeError):
        res.r_mean = 0.0  # frozen


@pytest.mark.parametrize("network, match", [
    (Network.bn_chain(1, gamma=0.5), "width >= 2"),
    (Layer(8, 1.0, activation="linear", gamma=0.5), "batch_norm=True"),
    (Network.bn_chain(8, gamma=0.5, activation="relu"), "activation"),
    ([Layer(8, 1.0, activation="linear", batch_norm=True, gamma=0.5),
      Layer(8, 1.0, activation="linear", batch_norm=True, gamma=0.4)], "identical layers"),
    (Layer(8, 1.0, 0.1, activation="linear", batch_norm=True), "sigma_b2"),
    (8, "network must be"),
    (Network([Layer(8, 1.0, activation="linear", batch_norm=True)], input_width=5), "input_width 5"),
])
def test_network_must_be_identical_linear_bn_layers(network, match):
    with pytest.raises(ValueError, match=match):
        RankChain(network)


@pytest.mark.parametrize("call, match", [
    (lambda: _chain(8, 0.5, batch=0), "batch"),
    (lambda: _chain(8, 0.5, n_networks=0), "n_networks"),
    (lambda: _chain(3, 0.5, batch=2, x0=np.array([[1.0, 2.0], [0.0, 0.0], [3.0, 1.0]])), r"row at index \(0, 1\)"),
    (lambda: _chain(2, 0.5, batch=2, x0=np.array([[1.0, np.inf], [1.0, 2.0]])), "non-finite"),
    (lambda: _chain(2, 0.5, batch=2, x0=np.ones((3, 2))), "x0 must have shape"),
    (lambda: _chain(8, 0.5).run(10, burn_in=10), "n_steps must be > burn_in"),
    (lambda: _chain(8, 0.5).run(10, tau=1.5), "tau"),
    (lambda: _chain(8, 0.5, device="cuda:0", backend="numpy"), "numpy backend"),
    (lambda: _chain(8, 0.5, dtype=np.int32), "dtype"),
])
def test_bad_input_is_refused_by_name(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("seed", [-1, 2**64, 2.0, "1"])
def test_rank_chain_refuses_a_seed_out_of_range(seed):
    with pytest.raises(ValueError, match="seed must be an integer in \\[0, 2\\*\\*64\\)"):
        _chain(4, 0.5, seed=seed, backend="numpy")


def test_rank_chain_accepts_every_seed_below_two_to_the_64():
    a = _chain(4, 0.5, seed=2**64 - 1, backend="numpy").factor
    b = _chain(4, 0.5, seed=2**64 - 1, backend="numpy").factor
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("flag", ["yes", None, 1])
def test_center_must_be_a_real_bool(flag):
    with pytest.raises(ValueError, match="center must be True or False"):
        _chain(4, 0.5, center=flag, backend="numpy")


def test_rank_chain_refuses_thin_larger_than_steps():
    # run(10, thin=100) recorded nothing and reported r_mean = nan
    with pytest.raises(ValueError, match=r"thin must leave a recorded step in \(burn_in, n_steps\] = \(0, 10\]"):
        _chain(4, 0.5, seed=0).run(10, thin=100)
    with pytest.raises(ValueError, match="soft_rank_thin must leave a recorded step"):
        _chain(4, 0.5, seed=0).run(30, burn_in=20, soft_rank_thin=35)
    with pytest.warns(SigdistWarning, match="batch-means blocks"):  # one recorded step: allowed, with a warning
        res = _chain(4, 0.5, seed=0).run(100, thin=100)
    assert res.n_recorded == 1 and np.isfinite(res.r_mean)
