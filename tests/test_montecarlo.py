"""Exact laws against Monte Carlo of real dense networks (numpy, fixed seeds).

Each check is a KS test at the 0.1 % level and moment z-scores |z| < 4 against the
sample standard error; the seeds are fixed, so the outcome is reproducible.
"""

import math
import warnings

import numpy as np
import pytest
from scipy import stats

import sigdist
from sigdist import Layer, Network, SigdistWarning
from sigdist.montecarlo import dense_squared_norms, ks_distance


def check_against_samples(law, z):
    n = z.size
    d = ks_distance(z, law.cdf, law.atom)
    assert stats.kstwo(n).sf(d) > 1e-3, d
    zmean = (z.mean() - law.mean()) / (z.std(ddof=1) / math.sqrt(n))
    zsq = ((z**2).mean() - law.moment(2)) / ((z**2).std(ddof=1) / math.sqrt(n))
    assert abs(zmean) < 4 and abs(zsq) < 4, (zmean, zsq)
    # the atom: a binomial z-score (or, for a tiny atom, no zeros at all)
    zeros = np.mean(z == 0)
    if law.atom * n > 5:
        assert abs(zeros - law.atom) / math.sqrt(law.atom * (1 - law.atom) / n) < 4
    else:
        assert zeros * n <= 5


@pytest.mark.parametrize(
    "net, seed",
    [
        (Network.he([12, 16, 16, 16]), 1),
        (Network([Layer(8, 0.3, 0.1), Layer(24, 0.2, 0.05), Layer(4, 0.5, 0.2)], input_width=8), 2),
        (Network.constant(3, 4, 1.0), 3),
    ],
)
def test_exact_laws_match_real_networks(net, seed):
    x0 = np.random.default_rng(seed).standard_normal(net.input_width)
    z = dense_squared_norms(net, x0, 6000, seed=seed)
    laws = sigdist.layer_laws(net, float(x0 @ x0))
    for l, law in enumerate(laws):
        check_against_samples(law, z[:, l])


@pytest.mark.parametrize("activation, depth", [("tanh", 2), ("erf", 2), ("gelu", 1), ("abs", 1)])
def test_lattice_laws_match_real_networks(activation, depth):
    net = Network.constant(10, depth, 1.5 / 10, 0.05, activation=activation)
    x0 = np.full(10, 0.4)
    z = dense_squared_norms(net, x0, 5000, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SigdistWarning)
        law = sigdist.squared_norm_law(net, float(x0 @ x0), method="lattice", lattice_size=1024)
    check_against_samples(law, z[:, -1])


def test_simulation_is_seeded_and_checks_its_input():
    net = Network.he([5, 5, 5])
    a = dense_squared_norms(net, np.ones(5), 10, seed=11)
    np.testing.assert_array_equal(a, dense_squared_norms(net, np.ones(5), 10, seed=11))
    with pytest.raises(ValueError, match="n_networks"):
        dense_squared_norms(net, np.ones(5), 0)
    with pytest.raises(ValueError, match="x0 must have the network's input width"):
        dense_squared_norms(net, np.ones(4), 10)
    with pytest.raises(ValueError, match="x0 must be finite"):
        dense_squared_norms(net, np.array([1, 2, np.nan, 0, 0.0]), 10)


def test_dense_squared_norms_refuses_a_chunk_below_one():
    # chunk = -1 used to return np.empty's uninitialised memory (the loop over range(0, n, -1) never ran)
    net = Network.constant(4, 2, 0.5)
    for chunk in (-1, 0):
        with pytest.raises(ValueError, match="chunk must be an integer >= 1"):
            dense_squared_norms(net, np.ones(4), 3, chunk=chunk)


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5, True, "0"])
def test_dense_squared_norms_refuses_a_seed_out_of_range(seed):
    with pytest.raises(ValueError, match="seed must be an integer in \\[0, 2\\*\\*64\\)"):
        dense_squared_norms(Network.constant(4, 1, 0.5), np.ones(4), 2, seed=seed)


def test_monte_carlo_refuses_an_activation_that_returns_nan():
    from sigdist.montecarlo import smc_moment

    def broken(h):
        return np.where(h > 1.0, np.nan, h)

    # the registry refuses it before any work; built as an Activation, it reaches the samplers' own check
    with pytest.raises(ValueError, match="activation 'broken' returned a non-finite value"):
        Network.constant(4, 2, 0.5, activation=broken)
    net = Network.constant(4, 2, 0.5, activation=sigdist.Activation("broken", broken))
    with pytest.raises(ValueError, match="activation 'broken' returned a non-finite value"):
        dense_squared_norms(net, np.ones(4), 50, seed=0)
    with pytest.raises(ValueError, match="activation 'broken' returned a non-finite value"):
        smc_moment(net, 1.0, n_networks=100, n_replicates=2, seed=0)
    # the exact route refuses it the same way, naming the activation
    with pytest.raises(ValueError, match="activation 'broken' returned non-finite values"):
        sigdist.squared_norm_law(net, 1.0)


def test_compare_refuses_what_is_not_a_law():
    from sigdist.montecarlo import compare

    with pytest.raises(ValueError, match="law must be"):
        compare(None, np.ones(10))
    with pytest.raises(ValueError, match="samples must be an array of numbers, got NoneType"):
        compare(stats.expon(), None)
    with pytest.raises(ValueError, match="moments must be"):
        compare(stats.expon(), np.arange(1.0, 20.0), moments=(0,))


def test_dense_squared_norms_reads_any_network_spec_and_any_seed():
    # a list of widths means He relu layers; a numpy Generator continues its stream
    x0 = np.ones(5)
    a = dense_squared_norms([5, 6, 3], x0, 20, seed=4)
    np.testing.assert_array_equal(a, dense_squared_norms(Network.he([5, 6, 3]), x0, 20, seed=4))
    np.testing.assert_array_equal(a, dense_squared_norms([5, 6, 3], x0, 20, seed=np.random.default_rng(4)))
    np.testing.assert_array_equal(a, dense_squared_norms([5, 6, 3], x0, 20, seed=np.random.SeedSequence(4)))
    with pytest.raises(ValueError, match="network must be"):
        dense_squared_norms("he", x0, 2)
    with pytest.raises(ValueError, match="x0 must be an array of numbers"):
        dense_squared_norms([5, 6], None, 2)


def test_smc_result_is_a_result_with_standard_errors_per_layer():
    from sigdist.montecarlo import smc_moment

    net = Network.constant(4, 3, 0.5)
    res = smc_moment(net, 1.0, 2, n_networks=200, n_replicates=4, seed=1)
    assert isinstance(res, sigdist.Result)
    assert res.estimate.shape == res.estimate_se.shape == (3,) and res.replicates.shape == (4, 3)
    np.testing.assert_allclose(res.estimate_se, res.replicates.std(axis=0, ddof=1) / 2)
    assert len(repr(res).splitlines()) < 10
    ds = res.to_xarray()
    assert ds["estimate"].dims == ("layer",) and list(ds["layer"].values) == [1, 2, 3]
    assert ds["replicates"].dims == ("replicate", "layer")
    with pytest.raises(ValueError, match="n_networks"):
        smc_moment(net, 1.0, 2, n_networks=0)


def test_comparison_is_a_result_with_moment_z_by_order():
    from sigdist.montecarlo import compare

    z = np.random.default_rng(0).exponential(size=400)
    res = compare(stats.expon(), z, moments=(1, 2, 3))
    assert isinstance(res, sigdist.Result) and res.passes()
    ds = res.to_xarray()
    assert list(ds["order"].values) == [1, 2, 3]
    for k in (1, 2, 3):
        assert float(ds["moment_z"].sel(order=k)) == res.moment_z[k]
    # the same samples against a law with another mean fail
    assert not compare(stats.expon(scale=1.5), z).passes()
