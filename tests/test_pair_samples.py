"""Two inputs through a network: the exact reduced sampler against real networks (Prop. 2, §3), and its result."""

import dataclasses

import numpy as np
import pytest
from scipy import stats

from sigdist import EmpiricalLaw, Layer, Network, Result
from sigdist.pairs import PairSamples, pair_samples, shared_pair_samples
from sigdist.relu_pair import mean_scalar_product


def test_pair_samples_agree_in_law_with_real_networks():
    pytest.importorskip("torch")
    from sigdist.montecarlo import simulate

    net = Network([Layer(12, 2 / 8, 0.05), Layer(12, 2 / 12, 0.05), Layer(12, 2 / 12, 0.05)], input_width=8)
    x = np.random.default_rng(5).standard_normal((2, 8))
    samples = pair_samples(net, float(x[0] @ x[0]), float(x[1] @ x[1]), float(x[0] @ x[1]), n_networks=6000, seed=6)
    sim = simulate(net, x, 6000, seed=7, method="full")
    for l in range(3):
        a, b = samples.cosines[:, l], sim.cosines[:, l, 0, 1]
        assert stats.ks_2samp(a[np.isfinite(a)], b[np.isfinite(b)]).pvalue > 1e-3
        assert stats.ks_2samp(samples.y12[:, l], sim.dots[:, l, 0, 1]).pvalue > 1e-3
    # layer 1's mean scalar product is eq. 10
    mean, se = samples.y12_mean, samples.y12_mean_se
    expected = mean_scalar_product(net[0], float(x[0] @ x[0]), float(x[1] @ x[1]), float(x[0] @ x[1]))
    assert abs(mean[0] - expected) < 4 * se[0]


def test_pair_samples_refuse_bad_inputs_by_name():
    net = Network.constant(5, 2, 0.4)
    with pytest.raises(ValueError, match="y12"):
        pair_samples(net, 1.0, 1.0, 1.5)
    with pytest.raises(ValueError, match="y1"):
        pair_samples(net, -1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="chunk"):
        pair_samples(Network.constant(5, 1, 0.4), 1.0, 1.0, 0.0, chunk=0)
    with pytest.raises(ValueError, match="n_networks"):
        pair_samples(net, 1.0, 1.0, 0.0, n_networks=1)
    with pytest.raises(ValueError, match="seed"):
        pair_samples(net, 1.0, 1.0, 0.0, seed=-1)
    with pytest.raises(ValueError, match="network"):
        pair_samples(None, 1.0, 1.0, 0.0)


def test_pair_samples_refuse_a_zero_input_whose_cosine_is_undefined():
    # pair_samples(net, 0, 1, 0).cosine_mean was NaN at every layer
    net = Network.constant(5, 2, 0.4)
    with pytest.raises(ValueError, match="y1 must be > 0 when the first layer has sigma_b2 = 0"):
        pair_samples(net, 0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="y2 must be > 0"):
        pair_samples(net, 1.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="y1 must be > 0"):
        shared_pair_samples(Network.gsm([4, 4, 4]), 0.0, 1.0, 0.0)
    # with a bias the first layer's signals are nonzero and the cosine is defined
    biased = Network([Layer(5, 0.4, 0.1)] * 2)
    samples = pair_samples(biased, 0.0, 1.0, 0.0, n_networks=2000, seed=0)
    assert np.all(np.isfinite(samples.cosine_mean)) and np.all(samples.cosine_mean_se > 0)


def test_pair_samples_take_every_network_spec_and_every_kind_of_seed():
    kw = dict(n_networks=50)
    ref = pair_samples(Network.he([10, 20, 20]), 1.0, 1.0, 0.5, seed=3, **kw)
    np.testing.assert_array_equal(pair_samples([10, 20, 20], 1.0, 1.0, 0.5, seed=3, **kw).y12, ref.y12)
    np.testing.assert_array_equal(pair_samples([10, 20, 20], 1.0, 1.0, 0.5,
                                               seed=np.random.SeedSequence(3), **kw).y12, ref.y12)
    np.testing.assert_array_equal(pair_samples(list(Network.he([10, 20, 20])), 1.0, 1.0, 0.5,
                                               seed=np.random.default_rng(3), **kw).y12, ref.y12)
    one = pair_samples(Layer(20, 0.1), 1.0, 1.0, 0.5, seed=3, **kw)
    assert one.depth == 1 and one.n_networks == 50


def test_pair_samples_are_a_result_with_layer_dims_and_empirical_laws():
    samples = pair_samples([10, 20, 20, 20], 1.0, 1.0, 0.5, n_networks=300, seed=1)
    assert isinstance(samples, PairSamples) and isinstance(samples, Result)
    with pytest.raises(dataclasses.FrozenInstanceError):
        samples.y1 = None
    assert len(repr(samples).splitlines()) < 15
    ds = samples.to_xarray()
    assert ds["cosines"].dims == ("network", "layer") and ds["cosine_mean"].dims == ("layer",)
    np.testing.assert_array_equal(ds["layer"].values, [1, 2, 3])
    law = samples.cosine_law(3)
    assert isinstance(law, EmpiricalLaw) and law.mean() == pytest.approx(samples.cosine_mean[2], rel=1e-12)
    assert law.mean_se() == pytest.approx(samples.cosine_mean_se[2], rel=1e-12)
    dots = samples.y12_law(1)
    assert dots.size == 300 and dots.mean() == pytest.approx(samples.y12_mean[0], rel=1e-12)
    for bad in (0, 4, 1.0, True):
        with pytest.raises(ValueError, match="layer must be an integer in"):
            samples.cosine_law(bad)


@pytest.mark.parametrize("builder", ["gsm", "looks_linear"])
def test_shared_pair_samples_match_real_parameter_shared_networks(builder):
    pytest.importorskip("torch")
    from sigdist.montecarlo import simulate

    net = getattr(Network, builder)([12, 12, 12, 12])
    x = np.random.default_rng(5).standard_normal((2, 12))
    d = x[:, :6] - x[:, 6:]
    samples = shared_pair_samples(net, d[0] @ d[0], d[1] @ d[1], d[0] @ d[1], n_networks=6000, seed=1)
    sim = simulate(net, x, 6000, seed=2)
    for l in range(3):
        assert stats.ks_2samp(samples.cosines[:, l], sim.cosines[:, l, 0, 1]).pvalue > 1e-3
        assert stats.ks_2samp(samples.y12[:, l], sim.dots[:, l, 0, 1]).pvalue > 1e-3
        if builder == "gsm":
            assert stats.ks_2samp(samples.y1[:, l], sim.squared_norms[:, l, 0]).pvalue > 1e-3
        else:  # orthogonal W0: the norms are exactly preserved
            np.testing.assert_allclose(sim.squared_norms[:, l, 0], d[0] @ d[0], rtol=1e-12)
            np.testing.assert_allclose(samples.y1[:, l], d[0] @ d[0], rtol=1e-12)


def test_what_parameter_sharing_preserves():
    c0 = 0.3
    ll = shared_pair_samples(Network.looks_linear([20] * 9), 1.0, 1.0, c0, n_networks=20_000, seed=3)
    gsm = shared_pair_samples(Network.gsm([20] * 9), 1.0, 1.0, c0, n_networks=20_000, seed=4)
    # looks-linear: the signal's cosine is preserved exactly, layer after layer
    np.testing.assert_allclose(ll.signal.cosines, c0, atol=1e-12)
    # GSM: the signal's scalar product is preserved on average (a linear Gaussian net at 2/fan-in)
    assert np.all(np.abs(gsm.signal.y12_mean - c0) < 4 * gsm.signal.y12_mean_se)
    # ... but not its cosine pathwise: it spreads out with depth
    assert np.nanstd(gsm.signal.cosines[:, -1]) > 2 * np.nanstd(gsm.signal.cosines[:, 0]) > 0
    # the cosine of the ReLU outputs x is not the signal's: negative products are dropped, so it is larger
    assert np.all(ll.cosine_mean > c0 + 0.1)
    # and for looks-linear its law does not drift with depth (the frame is uniformly random each layer)
    assert stats.ks_2samp(ll.cosines[:, 0], ll.cosines[:, -1]).pvalue > 1e-3


def test_shared_pair_samples_refuse_mixed_sharing():
    mixed = Network(list(Network.gsm([4, 4])) + list(Network.looks_linear([4, 4])))
    with pytest.raises(ValueError, match="share parameters the same way"):
        shared_pair_samples(mixed, 1.0, 1.0, 0.0)


def test_pair_samples_take_a_torch_generator_as_seed():
    torch = pytest.importorskip("torch")
    a = pair_samples([5, 5], 1.0, 1.0, 0.5, n_networks=10, seed=torch.Generator().manual_seed(0))
    b = pair_samples([5, 5], 1.0, 1.0, 0.5, n_networks=10, seed=torch.Generator().manual_seed(0))
    np.testing.assert_array_equal(a.y12, b.y12)
