"""The torch Monte Carlo engine against exact facts, at fixed seeds (CPU build of torch).

Every CUDA path is the same code as the CPU path with another device; these tests run it on the CPU.
"""

import math

import numpy as np
import pytest
from scipy import stats

torch = pytest.importorskip("torch")

import sigdist  # noqa: E402
from sigdist import Layer, Network, ResidualNetwork  # noqa: E402
from sigdist.montecarlo import compare, simulate, smc_moment  # noqa: E402
from sigdist.weights import TRUNCATED_NORMAL_VARIANCE_FACTOR  # noqa: E402


def zscore(samples, exact):
    return (samples.mean() - exact) / (samples.std(ddof=1) / math.sqrt(samples.size))


def two_sample_p(a, b):
    # cosines are undefined (NaN) where a signal is exactly 0
    return stats.ks_2samp(a[np.isfinite(a)], b[np.isfinite(b)]).pvalue


@pytest.mark.parametrize("activation, sb2", [("relu", 0.0), ("tanh", 0.1), ("relu", 0.2)])
def test_reduced_sampler_agrees_in_law_with_full_networks(activation, sb2):
    net = Network.constant(12, 3, 1.6 / 12, sb2, activation=activation)
    x = np.random.default_rng(0).standard_normal((2, 12))
    full = simulate(net, x, 4000, seed=1, method="full")
    reduced = simulate(net, x, 4000, seed=2, method="reduced")
    assert full.method == "full" and reduced.method == "reduced"
    for l in range(3):
        for i in range(2):
            assert two_sample_p(full.squared_norms[:, l, i], reduced.squared_norms[:, l, i]) > 1e-3
        assert two_sample_p(full.cosines[:, l, 0, 1], reduced.cosines[:, l, 0, 1]) > 1e-3
        assert two_sample_p(full.dots[:, l, 0, 1], reduced.dots[:, l, 0, 1]) > 1e-3


@pytest.mark.parametrize("method", ["full", "reduced"])
def test_mean_squared_norm_matches_eq6(method):
    net = Network([Layer(10, 0.3, 0.1), Layer(25, 0.15, 0.05), Layer(7, 0.4, 0.0)], input_width=6)
    x = np.linspace(-1, 1, 6)
    sim = simulate(net, x, 20000, seed=3, method=method)
    m = sigdist.squared_norm_moments(net, float(x @ x))
    mean, second = m.first_moment, m.second_moment
    for l in range(3):
        assert abs(zscore(sim.squared_norms[:, l, 0], mean[l])) < 4


def test_linear_activation_gives_the_chi2_law():
    net = Network.constant(9, 1, 0.5, activation="linear")
    sim = simulate(net, np.ones(9), 5000, seed=4, method="full")
    law = stats.chi2(9, scale=0.5 * 9)
    result = compare(law, sim.squared_norms[:, 0, 0])
    assert result.passes(), result


def test_exact_law_passes_compare_and_a_wrong_law_fails():
    net = Network.he([8, 16, 16, 16])
    x = np.full(8, 0.5)
    sim = simulate(net, x, 6000, seed=5, method="full")
    laws = sigdist.layer_laws(net, float(x @ x))
    for l, law in enumerate(laws):
        assert compare(law, sim.squared_norms[:, l, 0]).passes()
    # same mean, but a last layer twice as wide: only the shape differs
    wrong_net = Network([net[0], net[1], Layer(32, net[2].sigma_w2 / 2)])
    wrong = sigdist.squared_norm_law(wrong_net, float(x @ x))
    assert wrong.mean() == pytest.approx(laws[-1].mean(), rel=1e-9)
    assert not compare(wrong, sim.squared_norms[:, 2, 0]).passes()


@pytest.mark.parametrize("n", [3, 10])
def test_he_second_moment_of_m1_is_one_plus_five_over_n(n):
    # M_1 = |x_1|^2 / n_1 with |x_0|^2 = n_0: E[M_1^2] = 1 + 5 / n_1 for any input direction
    x = np.random.default_rng(n).standard_normal(7)
    x *= math.sqrt(7) / np.linalg.norm(x)
    sim = simulate(Network.he([7, n]), x, 40000, seed=6)
    m = sim.squared_norms[:, 0, 0] / n
    assert abs(zscore(m**2, 1 + 5 / n)) < 4
    assert abs(zscore(m, 1.0)) < 4


@pytest.mark.parametrize("law, factor", [("uniform", 1.0), ("truncated_normal", TRUNCATED_NORMAL_VARIANCE_FACTOR)])
def test_weight_laws_keep_eq6_with_their_variance(law, factor):
    # E|x_L|^2 depends on the weights only through their variance (any symmetric law); the
    # uncorrected truncated normal (PyTorch's trunc_normal_ at 2 sigma) loses 22.6 % per layer
    depth = 6
    net = Network([Layer(16, 2 / 16, weight_law=law)] * depth, input_width=16)
    assert net[0].weight_variance == pytest.approx(factor * 2 / 16)
    sim = simulate(net, np.ones(16), 20000, seed=7)
    for l in range(depth):
        assert abs(zscore(sim.squared_norms[:, l, 0], 16 * factor ** (l + 1))) < 4
    # the value of a variance-preserving initialisation, E|x_L|^2 = |x_0|^2 = 16, is rejected for the
    # truncated normal (six layers keep 0.774^6 = 0.21 of it) and kept for the uniform law
    z_he = zscore(sim.squared_norms[:, -1, 0], 16.0)
    assert (z_he < -4) if factor < 1 else (abs(z_he) < 4)


def test_truncated_normal_draws_have_the_stated_variance():
    net = Network([Layer(400, 1.0, weight_law="truncated_normal", activation="linear")], input_width=400)
    sim = simulate(net, np.eye(400)[0], 50, seed=8, record=(1,))
    w = sim.activations[1].ravel()  # the first column of each W
    assert np.max(np.abs(w)) <= 2.0
    assert abs(w.var() - TRUNCATED_NORMAL_VARIANCE_FACTOR) < 4 * math.sqrt(2 / w.size)


def test_callable_weight_law():
    def rademacher(gen, shape):
        return 2.0 * torch.randint(0, 2, shape, generator=gen).double() - 1.0

    net = Network([Layer(10, 0.2, weight_law=rademacher)], input_width=10)
    sim = simulate(net, np.ones(10), 20000, seed=9)
    assert abs(zscore(sim.squared_norms[:, 0, 0], 10 * 0.2 * 10 / 2)) < 4


def test_gsm_network_is_a_linear_network_of_half_width():
    net = Network.gsm([8, 12, 12, 6])
    x = np.random.default_rng(1).standard_normal(8)
    d = x[:4] - x[4:]
    sim = simulate(net, x, 5000, seed=10)
    assert sim.method == "full"
    laws = sigdist.layer_laws(net.reduced_linear(), float(d @ d))
    for l, law in enumerate(laws):
        assert compare(law, sim.squared_norms[:, l, 0]).passes()


def test_looks_linear_square_layers_preserve_the_norm_exactly():
    net = Network.looks_linear([10, 10, 10, 10])
    x = np.random.default_rng(2).standard_normal(10)
    d = x[:5] - x[5:]
    sim = simulate(net, x, 20, seed=11)
    np.testing.assert_allclose(sim.squared_norms[:, :, 0], d @ d, rtol=1e-12)


def test_residual_network_first_moment():
    # one module relu(W x), W n x n with variance 2/n: E|x + eta M(x)|^2
    # = |x|^2 + eta^2 |x|^2 + 2 eta sigma |x| sum_i x_i / sqrt(2 pi)
    n, eta = 6, 0.7
    net = ResidualNetwork.uniform(n, [], [eta])
    x = np.array([1.0, 0.5, -0.2, 0.3, 0.0, 0.8])
    sim = simulate(net, x, 40000, seed=12)
    y = x @ x
    exact = y + eta**2 * y + 2 * eta * math.sqrt(2 / n) * math.sqrt(y) * x.sum() / math.sqrt(2 * math.pi)
    assert abs(zscore(sim.squared_norms[:, 0, 0], exact)) < 4
    zero = simulate(ResidualNetwork.uniform(n, [4], [0.0, 0.0]), x, 3, seed=0)
    np.testing.assert_allclose(zero.squared_norms, y)


def test_batch_norm_normalises_each_unit_over_the_batch():
    net = Network([Layer(7, 0.3, activation="linear", batch_norm=True)] * 2, input_width=5)
    x = np.random.default_rng(3).standard_normal((4, 5))
    sim = simulate(net, x, 10, seed=13)
    # every unit has mean square 1 over the 4 inputs: the squared norms over the batch sum to 7 * 4
    np.testing.assert_allclose(sim.squared_norms.sum(axis=2), 28.0, rtol=1e-12)


def test_seeds_and_devices():
    net = Network.he([5, 8, 8])
    x = np.ones((2, 5))
    a = simulate(net, x, 50, seed=21, device="cpu")
    b = simulate(net, x, 50, seed=torch.Generator().manual_seed(21), device="cpu")
    np.testing.assert_array_equal(a.squared_norms, b.squared_norms)
    assert not np.array_equal(a.squared_norms, simulate(net, x, 50, seed=22, device="cpu").squared_norms)
    c = simulate(net, x, 50, seed=21, device="cpu", chunk=7)
    assert c.squared_norms.shape == (50, 2, 2)
    f32 = simulate(net, x, 50, seed=21, dtype=torch.float32)
    assert f32.squared_norms.dtype == np.float64 and np.all(np.isfinite(f32.squared_norms))


def test_bad_input():
    net = Network.he([5, 8])
    with pytest.raises(ValueError, match="n_networks"):
        simulate(net, np.ones(5), 0)
    with pytest.raises(ValueError, match="x0 must have the network's input width"):
        simulate(net, np.ones(4), 10)
    with pytest.raises(ValueError, match="x0 must be finite"):
        simulate(net, np.array([1, 2, np.inf, 0, 0]), 10)
    with pytest.raises(ValueError, match="network must be"):
        simulate("he", np.ones(5), 10)
    with pytest.raises(ValueError, match="input_width"):
        simulate([Layer(3, 1.0)], np.ones(5), 10)
    with pytest.raises(ValueError, match="device"):
        simulate(net, np.ones(5), 10, device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            simulate(net, np.ones(5), 10, device="cuda")
    with pytest.raises(ValueError, match="reduced"):
        simulate(Network.gsm([4, 4]), np.ones(4), 10, method="reduced")
    with pytest.raises(ValueError, match="record"):
        simulate(net, np.ones(5), 10, record=(2,))


def test_missing_torch_gives_an_install_hint(monkeypatch):
    import sys

    import sigdist.montecarlo as mc

    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"sigdist\[mc\]"):
        mc.__getattr__("simulate")


def test_smc_recovers_heavy_tailed_second_moments_where_naive_monte_carlo_fails():
    # He, width 4, depth 60: E[z_L^2] = (1 + 5/4)^60 ~ 1.4e21 lives in rare runs
    net = Network.constant(4, 60, 2 / 4)
    second = sigdist.squared_norm_moments(net, 1.0).second_moment
    smc = smc_moment(net, 1.0, 2, n_networks=4000, n_replicates=12, seed=14)
    z = (smc.estimate[-1] - second[-1]) / smc.estimate_se[-1]
    assert abs(z) < 4 and smc.estimate_se[-1] / second[-1] < 0.25
    naive = simulate(net, np.ones(4) / 2, 4000, seed=15).squared_norms[:, -1, 0]
    assert np.mean(naive**2) < 1e-3 * second[-1]  # the naive sample mean misses by orders of magnitude


def test_smc_with_biases_matches_the_exact_recursion():
    net = Network.constant(6, 8, 1.2 / 6, 0.1)
    second = sigdist.squared_norm_moments(net, 2.0).second_moment
    smc = smc_moment(net, 2.0, 2, n_networks=3000, n_replicates=12, seed=16)
    assert np.all(np.abs((smc.estimate - second) / smc.estimate_se) < 4)


def test_batch_norm_of_a_dead_unit_is_zero_not_nan():
    net = Network([Layer(2, 1.0, 0.0, batch_norm=True)] * 20, input_width=4)
    sim = simulate(net, np.ones(4), 200, seed=0, device="cpu")
    assert np.all(np.isfinite(sim.squared_norms))


def test_record_and_bins_are_checked():
    net = Network.he([5, 8])
    with pytest.raises(ValueError, match="record"):
        simulate(net, np.ones(5), 10, record=(1.7,))
    assert 1 in simulate(net, np.ones(5), 4, seed=0, record=1).activations
    law = sigdist.squared_norm_law(net, 5.0)
    with pytest.raises(ValueError, match="bins"):
        compare(law, np.ones(100), bins=2.7)


def test_simulate_refuses_an_activation_that_returns_nan():
    def broken(h):
        return np.where(h > 1.0, np.nan, h)

    net = Network.constant(4, 2, 0.5, activation=sigdist.Activation("broken", broken))  # past the registry's check
    for method in ("reduced", "full"):
        with pytest.raises(ValueError, match="activation 'broken' returned a non-finite value"):
            simulate(net, np.ones(4), 50, seed=0, device="cpu", method=method)


@pytest.mark.parametrize("seed", [-1, 2**64, 0.5, "1"])
def test_simulate_refuses_a_seed_that_is_not_a_seed(seed):
    with pytest.raises(ValueError, match="seed must be an integer in \\[0, 2\\*\\*64\\), a numpy SeedSequence or Generator, a torch.Generator"):
        simulate(Network.constant(4, 1, 0.5), np.ones(4), 2, seed=seed, device="cpu")


def test_simulate_takes_every_kind_of_seed_and_repeats_itself():
    net = Network.constant(4, 2, 0.5)
    for make in (lambda: 7, lambda: np.random.SeedSequence(7), lambda: np.random.default_rng(7),
                 lambda: torch.Generator().manual_seed(7)):
        a = simulate(net, np.ones(4), 3, seed=make(), device="cpu").squared_norms
        b = simulate(net, np.ones(4), 3, seed=make(), device="cpu").squared_norms
        assert np.array_equal(a, b)


def test_simulation_is_a_result_labelled_by_network_layer_and_input():
    net = Network.he([5, 8, 8, 3])
    x = np.random.default_rng(0).standard_normal((2, 5))
    sim = simulate(net, x, 40, seed=0, device="cpu")
    assert isinstance(sim, sigdist.Result) and len(repr(sim).splitlines()) < 12
    ds = sim.to_xarray()
    assert ds["squared_norms"].dims == ("network", "layer", "input")
    assert ds["dots"].dims == ("network", "layer", "input", "input2")
    assert list(ds["layer"].values) == [1, 2, 3]
    one = simulate(net, x[0], 5, seed=0, device="cpu")
    assert one.dots is None and one.to_xarray()["squared_norms"].shape == (5, 3, 1)


def test_simulation_gives_the_empirical_law_of_a_layer():
    net = Network.he([6, 10, 10])
    x = np.full(6, 0.5)
    sim = simulate(net, x, 4000, seed=1, device="cpu")
    law = sim.squared_norm_law(2)
    assert isinstance(law, sigdist.EmpiricalLaw) and law.size == 4000
    np.testing.assert_array_equal(np.sort(sim.squared_norms[:, 1, 0]), law.samples)
    exact = sigdist.squared_norm_law(net, float(x @ x))
    # its mean and its CDF at the exact median agree with the exact law within their standard errors
    assert abs(law.mean() - exact.mean()) < 4 * law.moment_se(1)
    median = float(exact.median())
    assert abs(law.cdf(median) - 0.5) < 4 * law.cdf_se(median)
    assert sim.squared_norm_law().size == 4000  # the last layer by default
    with pytest.raises(ValueError, match="layer must be an integer in 1..2"):
        sim.squared_norm_law(3)
    with pytest.raises(ValueError, match="input_index"):
        sim.squared_norm_law(1, input_index=1)


def test_simulate_takes_a_list_of_widths_as_he_network():
    x = np.ones(5)
    a = simulate([5, 7, 4], x, 30, seed=3, device="cpu").squared_norms
    np.testing.assert_array_equal(a, simulate(Network.he([5, 7, 4]), x, 30, seed=3, device="cpu").squared_norms)


def test_residual_batch_norm_layer_is_the_batch_normalised_skip_map():
    # gamma -> 0: x + gamma W x -> x, so one linear BN layer returns BN(x) (each unit of unit mean square)
    x = np.random.default_rng(4).standard_normal((3, 6))
    sim = simulate(Network.bn_chain(6, 1, gamma=1e-12), x, 4, seed=5, device="cpu", record=(1,))
    expected = x / np.sqrt(np.mean(x * x, axis=0, keepdims=True))
    # the skip term moves each entry by about gamma |W x| ~ 1e-12
    np.testing.assert_allclose(sim.activations[1], np.broadcast_to(expected, (4, 3, 6)), rtol=0, atol=1e-10)
    # a finite gamma: each unit still has mean square 1 over the batch, and the output is not BN(x)
    big = simulate(Network.bn_chain(6, 3, gamma=0.5), x, 50, seed=6, device="cpu", record=(3,))
    np.testing.assert_allclose(big.squared_norms.sum(axis=2), 6 * 3, rtol=1e-12)
    assert np.max(np.abs(big.activations[3] - expected)) > 0.1


def test_residual_layer_first_moment_without_batch_norm():
    # one linear skip layer x + gamma W x: E|h|^2 = |x|^2 (1 + gamma^2 sigma_w2 N)
    width, gamma, sw2 = 5, 0.6, 0.3
    net = Network([Layer(width, sw2, activation="linear", gamma=gamma)], input_width=width)
    x = np.linspace(-1, 1, width)
    sim = simulate(net, x, 20000, seed=7, device="cpu")
    y = x @ x
    assert abs(zscore(sim.squared_norms[:, 0, 0], y * (1 + gamma**2 * sw2 * width))) < 4
