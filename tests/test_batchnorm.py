"""The BN rank chain (Daneshmand et al. 2020, eq. 1-4) against a direct simulation of H, and its statistics."""

import json
import math

import numpy as np
import pytest
from scipy.special import polygamma

from sigdist import SigdistWarning
from sigdist.batchnorm import (RankChain, batch_norm, bn_step, gaussian_lyapunov_exponents, gram_step,
                               hidden_rank_profile, lyapunov_spectrum)
from sigdist.rank import rank_bound, soft_rank


def _direct_traces(d, n, gamma, n_chains, seed, steps, tau, center=False, law="gaussian"):
    """Notebook-style reference: the d x N matrix H itself, one chain at a time, same random streams."""
    gens = [np.random.Generator(np.random.PCG64(s)) for s in np.random.SeedSequence(seed).spawn(n_chains)]
    r, s = np.zeros((steps, n_chains)), np.zeros((steps, n_chains))
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
    chain = RankChain(d, gamma, n_chains=K, batch=n, seed=11, center=center, weight_law=law)
    res = chain.run(steps, tau=0.5)
    r, s = _direct_traces(d, n, gamma, K, 11, steps, 0.5, center=center, law=law)
    np.testing.assert_allclose(res.r_chain_means, r.mean(0), rtol=1e-11)
    np.testing.assert_allclose(res.soft_rank_chain_means, s.mean(0), rtol=1e-12)


def test_gram_step_is_the_gram_of_bn_step():
    rng = np.random.default_rng(0)
    H, W = rng.standard_normal((7, 4)), rng.standard_normal((7, 7))
    for gamma in (0.3, math.inf):
        H1 = bn_step(H, W, gamma)
        np.testing.assert_allclose(gram_step(H @ H.T / 4, W, gamma), H1 @ H1.T / 4, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(np.mean(H1 * H1, axis=1), 1.0, rtol=1e-14)
    centred = batch_norm(H, center=True)
    np.testing.assert_allclose(centred.mean(axis=1), 0.0, atol=1e-14)


def test_a_chain_does_not_depend_on_its_neighbours():
    one = RankChain(16, 0.5, n_chains=1, seed=5).run(60, tau=0.5)
    three = RankChain(16, 0.5, n_chains=3, seed=5).run(60, tau=0.5)
    assert one.r_chain_means[0] == three.r_chain_means[0]
    again = RankChain(16, 0.5, n_chains=3, seed=5).run(60, tau=0.5)
    np.testing.assert_array_equal(three.r_chain_means, again.r_chain_means)


def test_lemma1_holds_along_chains():
    for d, n, gamma, tau in ((16, 16, 0.5, 0.5), (32, 8, math.inf, 0.2), (8, 30, 0.1, 0.9)):
        res = RankChain(d, gamma, n_chains=4, batch=n, seed=1).run(300, burn_in=20, tau=tau)
        assert res.lemma1_violations == 0
        assert res.soft_rank_mean >= (1 - tau) ** 2 * res.r_mean


def test_standard_error_matches_the_spread_of_independent_chains():
    # 24 independent chains: the spread of their means is a second, model-free route to the s.e.
    res = RankChain(16, 0.5, n_chains=24, seed=3).run(3000, burn_in=200, tau=0.5)
    between = res.r_chain_means.std(ddof=1) / math.sqrt(24)
    # chi^2_23: s / sigma lies in [0.62, 1.37] with probability 0.99
    assert 0.55 < res.r_se / between < 1.6
    assert res.tau_int_r > 0.5


def test_checkpoint_resume_is_exact(tmp_path):
    path = tmp_path / "chain.npz"
    full = RankChain(12, 0.5, n_chains=2, seed=9).run(400, burn_in=50, tau=0.5)
    part = RankChain(12, 0.5, n_chains=2, seed=9)
    part.run(170, burn_in=50, tau=0.5, checkpoint=path)
    resumed = RankChain.load(path).run(400, burn_in=50, tau=0.5, checkpoint=path)
    assert resumed.steps == 400
    for field in ("r_mean", "r_se", "soft_rank_mean", "soft_rank_se", "n_recorded", "lemma1_violations"):
        assert getattr(resumed, field) == getattr(full, field), field
    np.testing.assert_array_equal(resumed.trace_r, full.trace_r)


def test_trace_is_bounded_and_independent_of_how_the_run_was_split(tmp_path, monkeypatch):
    import sigdist.batchnorm as bn

    monkeypatch.setattr(bn, "_TRACE_POINTS", 50)
    full = RankChain(4, 0.5, seed=2).run(1000, tau=0.5)
    path = tmp_path / "c.npz"
    RankChain(4, 0.5, seed=2).run(130, tau=0.5, checkpoint=path)
    resumed = RankChain.load(path).run(1000, tau=0.5)
    assert 25 <= full.trace_steps.size <= 50
    np.testing.assert_array_equal(resumed.trace_steps, full.trace_steps)
    np.testing.assert_array_equal(resumed.trace_r, full.trace_r)


def test_a_numerical_failure_rolls_back_to_the_committed_block(monkeypatch):
    chain = RankChain(6, 0.5, seed=8)
    chain.run(100, tau=0.5)
    original = RankChain._advance_numpy

    def failing(self, size, rec_r, rec_s):
        original(self, size, rec_r, rec_s)
        raise FloatingPointError("injected")

    monkeypatch.setattr(RankChain, "_advance_numpy", failing)
    with pytest.raises(FloatingPointError):
        chain.run(300, tau=0.5)
    monkeypatch.setattr(RankChain, "_advance_numpy", original)
    assert chain.steps == 100
    assert chain.run(300, tau=0.5).r_mean == RankChain(6, 0.5, seed=8).run(300, tau=0.5).r_mean


def test_interrupt_keeps_the_statistics(tmp_path, monkeypatch):
    path = tmp_path / "chain.npz"
    full = RankChain(10, 1.0, n_chains=2, seed=4).run(2000, tau=0.5)
    chain = RankChain(10, 1.0, n_chains=2, seed=4)
    original = RankChain._advance
    calls = {"n": 0}

    def interrupted(self, size):
        calls["n"] += 1
        if calls["n"] == 5:
            original(self, size)  # the state moves on, then the interrupt lands before it is committed
            raise KeyboardInterrupt
        original(self, size)

    monkeypatch.setattr(RankChain, "_advance", interrupted)
    monkeypatch.setattr(RankChain, "_block_len", lambda self: 100)
    with pytest.raises(KeyboardInterrupt):
        chain.run(2000, tau=0.5, checkpoint=path)
    monkeypatch.setattr(RankChain, "_advance", original)
    saved = RankChain.load(path)
    assert saved.steps == 400
    assert chain.steps == 400  # the live object is rolled back to the same committed state
    assert saved.run(2000, tau=0.5).r_mean == full.r_mean
    assert chain.run(2000, tau=0.5).r_mean == full.r_mean


def test_continued_run_must_keep_its_settings():
    chain = RankChain(8, 0.5, seed=0)
    chain.run(100, burn_in=10, tau=0.5)
    with pytest.raises(ValueError, match="keep burn_in"):
        chain.run(200, burn_in=10, tau=0.3)


def test_torch_backend_agrees_in_law_with_numpy():
    pytest.importorskip("torch")
    kwargs = dict(n_chains=8, seed=2)
    a = RankChain(16, 0.5, **kwargs).run(2500, burn_in=200, tau=0.5)
    b = RankChain(16, 0.5, backend="torch", device="cpu", **kwargs).run(2500, burn_in=200, tau=0.5)
    z = (a.r_mean - b.r_mean) / math.hypot(a.r_se, b.r_se)
    assert abs(z) < 4, z
    assert b.lemma1_violations == 0
    again = RankChain(16, 0.5, backend="torch", device="cpu", **kwargs).run(2500, burn_in=200, tau=0.5)
    assert again.r_mean == b.r_mean  # same seed, same device, same numbers
    seq = RankChain(16, 0.5, backend="torch", device="cpu", n_chains=2, seed=np.random.SeedSequence(4))
    assert seq.run(50, tau=0.5).lemma1_violations == 0


def test_gaussian_lyapunov_spectrum():
    d, steps, samples = 6, 400, 16
    res = lyapunov_spectrum(d, steps, n_samples=samples, seed=1)
    exact = gaussian_lyapunov_exponents(d)
    z = (res.exponents - exact) / res.standard_error
    assert np.all(np.abs(z) < 4), z
    # the QR recursion makes each log R_ii an independent 1/2 log chi^2_{d-i+1}: the s.e. is known exactly
    exact_se = 0.5 * np.sqrt(polygamma(1, (d - np.arange(d)) / 2.0) / (steps * samples))
    assert np.all((res.standard_error / exact_se > 0.5) & (res.standard_error / exact_se < 1.6))
    assert gaussian_lyapunov_exponents(1)[0] == pytest.approx(-(np.euler_gamma + math.log(2)) / 2, rel=1e-14)


def test_residual_products_still_collapse():
    # Lemma 3: with I + gamma W the top Lyapunov gap stays positive, so B_l X / |B_l| tends to rank one
    res = lyapunov_spectrum(8, 300, gamma=0.5, k=2, n_samples=8, seed=2)
    gap = res.samples[:, 0] - res.samples[:, 1]
    assert gap.mean() / (gap.std(ddof=1) / math.sqrt(8)) > 4
    uni = lyapunov_spectrum(8, 300, gamma=0.5, k=2, n_samples=8, seed=2, weight_law="uniform")
    assert np.all(uni.exponents[0] > uni.exponents[1])


def test_hidden_rank_profile_bn_against_vanilla():
    common = dict(n_networks=6, rtol=32 * 1e-7, seed=0)  # the matrix_rank convention of the paper
    vanilla = hidden_rank_profile(32, 40, batch_norm=False, **common)
    bn = hidden_rank_profile(32, 40, batch_norm=True, **common)
    assert vanilla.numerical_rank[0] == 32
    # vanilla: sigma_i / sigma_1 ~ exp(-(mu_1 - mu_i) l), so at depth l the numerical rank is about
    # #{i : (mu_1 - mu_i) l < ln(1 / rtol)} (Lyapunov exponents, closed form for Gaussian weights)
    mu = gaussian_lyapunov_exponents(32)
    predicted = np.count_nonzero((mu[0] - mu) * 40 < math.log(1 / common["rtol"]))
    # leading order only: near the threshold (i ~ 18) one index moves log sigma by 40 / (2 (32 - 18)) ~ 1.4, so
    # the O(1) terms of log sigma_i leave the count within a few indices
    assert abs(vanilla.numerical_rank[-1] - predicted) < 3, (vanilla.numerical_rank[-1], predicted)
    z = (bn.rank_bound[-1] - vanilla.rank_bound[-1]) / math.hypot(bn.rank_bound_se[-1], vanilla.rank_bound_se[-1])
    assert z > 4
    relu = hidden_rank_profile(32, 10, activation="relu", batch_norm=True, center=True, **common)
    assert np.all(relu.rank_bound > 1)


@pytest.mark.parametrize("call, match", [
    (lambda: RankChain(1, 0.5), "d must"),
    (lambda: RankChain(8, 0.0), "gamma"),
    (lambda: RankChain(8, -1.0), "gamma"),
    (lambda: RankChain(8, 0.5, batch=0), "batch"),
    (lambda: RankChain(8, 0.5, weight_law="cauchy"), "weight_law"),
    (lambda: RankChain(3, 0.5, batch=2, inputs=np.array([[1.0, 2.0], [0.0, 0.0], [3.0, 1.0]])), r"row at index \(0, 1\)"),
    (lambda: RankChain(2, 0.5, batch=2, inputs=np.array([[1.0, np.inf], [1.0, 2.0]])), "non-finite"),
    (lambda: RankChain(8, 0.5).run(10, burn_in=10), "n_steps must be > burn_in"),
    (lambda: RankChain(8, 0.5).run(10, tau=1.5), "tau"),
    (lambda: RankChain(8, 0.5, device="cuda:0", backend="numpy"), "numpy backend"),
    (lambda: batch_norm(np.array([[1.0, -1.0], [0.0, 0.0]])), "row at index"),
    (lambda: lyapunov_spectrum(4, 0), "n_steps"),
    (lambda: hidden_rank_profile(8, 0, rtol=1e-8), "depth"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_float32_chain_agrees_in_law():
    a = RankChain(16, math.inf, n_chains=8, seed=6).run(2500, burn_in=200, tau=0.5)
    b = RankChain(16, math.inf, n_chains=8, seed=7, dtype=np.float32).run(2500, burn_in=200, tau=0.5)
    assert b.lemma1_violations == 0
    assert abs(a.r_mean - b.r_mean) < 4 * math.hypot(a.r_se, b.r_se)


def test_torch_backend_checkpoint_resume_is_exact(tmp_path):
    pytest.importorskip("torch")
    path = tmp_path / "torch_chain.npz"
    kwargs = dict(n_chains=2, seed=3, backend="torch", device="cpu")
    full = RankChain(8, 0.5, **kwargs).run(300, tau=0.5)
    RankChain(8, 0.5, **kwargs).run(120, tau=0.5, checkpoint=path)
    resumed = RankChain.load(path).run(300, tau=0.5)
    assert resumed.r_mean == full.r_mean and resumed.soft_rank_mean == full.soft_rank_mean


@pytest.mark.parametrize("seed", [-1, 2**64, 2.0, "1"])
def test_rank_chain_and_profiles_refuse_a_seed_out_of_range(seed):
    with pytest.raises(ValueError, match="seed must be an integer in \\[0, 2\\*\\*64\\)"):
        RankChain(4, 0.5, seed=seed, backend="numpy")
    with pytest.raises(ValueError, match="seed must be an integer in \\[0, 2\\*\\*64\\)"):
        lyapunov_spectrum(3, 2, seed=seed)
    with pytest.raises(ValueError, match="seed must be an integer in \\[0, 2\\*\\*64\\)"):
        hidden_rank_profile(3, 1, n_networks=2, rtol=1e-7, seed=seed)


def test_rank_chain_accepts_every_seed_below_two_to_the_64():
    a = RankChain(4, 0.5, seed=2**64 - 1, backend="numpy").factor
    b = RankChain(4, 0.5, seed=2**64 - 1, backend="numpy").factor
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("flag", ["yes", None, 1])
def test_batch_norm_flags_must_be_real_bools(flag):
    with pytest.raises(ValueError, match="center must be True or False"):
        RankChain(4, 0.5, center=flag, backend="numpy")
    with pytest.raises(ValueError, match="center must be True or False"):
        batch_norm(np.ones((2, 3)), center=flag)
    with pytest.raises(ValueError, match="batch_norm must be True or False"):
        hidden_rank_profile(3, 1, n_networks=2, rtol=1e-7, batch_norm=flag)


def test_rank_chain_refuses_thin_larger_than_steps():
    # run(10, thin=100) recorded nothing and reported r_mean = nan
    with pytest.raises(ValueError, match=r"thin must leave a recorded step in \(burn_in, n_steps\] = \(0, 10\]"):
        RankChain(4, 0.5, seed=0).run(10, thin=100)
    with pytest.raises(ValueError, match="soft_rank_thin must leave a recorded step"):
        RankChain(4, 0.5, seed=0).run(30, burn_in=20, soft_rank_thin=35)
    with pytest.warns(SigdistWarning, match="batch-means blocks"):  # one recorded step: allowed, with a warning
        res = RankChain(4, 0.5, seed=0).run(100, thin=100)
    assert res.n_recorded == 1 and np.isfinite(res.r_mean)


def test_rank_chain_checks_the_checkpoint_path_before_running(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    chain = RankChain(4, 0.5, seed=0)
    monkeypatch.setattr(RankChain, "_advance", lambda self, size: pytest.fail("the chain ran before the check"))
    for bad in (blocker / "c.npz", tmp_path / "missing" / "c.npz", tmp_path):
        with pytest.raises(ValueError, match="checkpoint must be a"):
            chain.run(10, checkpoint=bad)
    assert chain.steps == 0


def _edit_checkpoint(path, meta=None, **arrays):
    with np.load(path) as data:
        content = {key: np.array(data[key]) for key in data.files}
    if meta:
        content["meta"] = np.array(json.dumps({**json.loads(str(content["meta"])), **meta}))
    content.update(arrays)
    np.savez(path, **content)


@pytest.mark.parametrize("meta, arrays, field", [
    ({"steps": 10**9}, {}, "r_ints count must be"),
    ({"steps": 1e9}, {}, "steps must be an integer >= 0"),
    ({"steps": -5}, {}, "steps must be an integer >= 0"),
    ({"violations": -1}, {}, "violations must be an integer >= 0"),
    ({"violations": 10**6}, {}, "violations must be <="),
    ({"gamma": -1}, {}, "gamma must be a number > 0"),
    ({"d": 1}, {}, "d must be an integer >= 2"),
    ({"n_chains": 3}, {}, "L must be a float array of shape"),
    ({"tau": 2.0}, {}, "tau must be a number in"),
    ({"thin": 0}, {}, "thin must be an integer >= 1"),
    ({"center": "no"}, {}, "center must be True or False"),
    ({}, {"L": "zero row"}, "L has an all-zero row"),
    ({}, {"L": "nan"}, "L must be finite"),
    ({}, {"r_ints": np.array([32, 1, 0, -3])}, "r_ints count must be"),
])
def test_rank_chain_load_refuses_inconsistent_checkpoints(tmp_path, meta, arrays, field):
    path = tmp_path / "c.npz"
    RankChain(4, 0.5, n_chains=2, seed=0).run(50, burn_in=10, checkpoint=path)
    RankChain.load(path)  # the untouched file loads
    with np.load(path) as data:
        L = np.array(data["L"])
    if arrays.get("L") == "zero row":
        L[1, 2] = 0.0
        arrays["L"] = L
    elif arrays.get("L") == "nan":
        L[0, 0, 0] = np.nan
        arrays["L"] = L
    _edit_checkpoint(path, meta, **arrays)
    with pytest.raises(ValueError, match=field):
        RankChain.load(path)
