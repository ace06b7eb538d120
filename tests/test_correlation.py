"""One ReLU layer, two inputs: closed forms against quadrature and Monte Carlo (Thm. 5)."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from sigdist.correlation import (EQ10_APPROXIMATION_WORST_ERROR, correlation_map, mean_scalar_product,
                                 orthant_probability, product_law)


@pytest.mark.parametrize("rho", [-0.99, -0.5, 0.0, 0.3, 0.9, 0.999])
def test_orthant_probability_matches_the_printed_integral(rho):
    # g(rho) = (1/sqrt(2 pi)) int_0^inf Phi(rho u / sqrt(1 - rho^2)) exp(-u^2/2) du (Thm. 5)
    c = rho / math.sqrt(1 - rho * rho)
    ref = integrate.quad(lambda u: stats.norm.cdf(c * u) * math.exp(-0.5 * u * u), 0, np.inf,
                         epsabs=1e-14)[0] / math.sqrt(2 * math.pi)
    assert orthant_probability(rho) == pytest.approx(ref, abs=1e-12)


def test_endpoints_are_exact():
    assert orthant_probability(-1.0) == 0.0 and orthant_probability(1.0) == 0.5
    assert correlation_map(1.0) == pytest.approx(1.0, abs=1e-15)
    assert correlation_map(-1.0) == pytest.approx(-1 / (math.pi - 1), abs=1e-15)


def test_correlation_map_and_mean_product_match_monte_carlo():
    rng = np.random.default_rng(0)
    v11, v22, v12 = 2.0, 0.5, 0.6
    rho = v12 / math.sqrt(v11 * v22)
    cov = np.array([[v11, v12], [v12, v22]])
    h = rng.multivariate_normal([0, 0], cov, size=400_000)
    x = np.maximum(h, 0)
    prod = x[:, 0] * x[:, 1]
    law = product_law(v11, v22, v12)
    z = (prod.mean() - law.mean()) / (prod.std(ddof=1) / math.sqrt(prod.size))
    assert abs(z) < 4
    z2 = ((prod**2).mean() - law.moment(2)) / ((prod**2).std(ddof=1) / math.sqrt(prod.size))
    assert abs(z2) < 4
    assert mean_scalar_product(v11, v22, v12, 7) == pytest.approx(7 * law.mean(), rel=1e-14)
    # Fisher z for the sample correlation of the ReLU outputs
    r = np.corrcoef(x[:, 0], x[:, 1])[0, 1]
    assert abs(np.arctanh(r) - np.arctanh(correlation_map(rho))) * math.sqrt(x.shape[0] - 3) < 4
    assert correlation_map(rho) < rho


@pytest.mark.parametrize("v12", [-0.9, 0.0, 0.5, 0.95])
def test_product_density_has_the_right_mass_mean_and_bins(v12):
    v11, v22 = 1.0, 1.0
    law = product_law(v11, v22, v12)
    g = orthant_probability(v12)
    mass = integrate.quad(lambda t: float(law.pdf(t)), 0, np.inf, limit=400, epsabs=1e-13)[0]
    mean = integrate.quad(lambda t: t * float(law.pdf(t)), 0, np.inf, limit=400, epsabs=1e-13)[0]
    assert mass == pytest.approx(g, abs=1e-10)
    assert mean == pytest.approx(law.mean(), abs=1e-10)
    # binned probabilities against Monte Carlo, z-scores per bin
    rng = np.random.default_rng(1)
    h = rng.multivariate_normal([0, 0], [[v11, v12], [v12, v22]], size=200_000)
    prod = np.maximum(h[:, 0], 0) * np.maximum(h[:, 1], 0)
    edges = [0.0, 0.05, 0.2, 0.5, 1.0, 2.0, np.inf]
    cdf = [law.atom] + [float(law.cdf(e)) for e in edges[1:-1]] + [1.0]
    expected = np.array([law.atom] + list(np.diff(cdf)))
    observed = np.array([np.mean(prod == 0)] + [np.mean((prod > a) & (prod <= b))
                                                for a, b in zip(edges[:-1], edges[1:])])
    se = np.sqrt(np.maximum(expected * (1 - expected), 1e-12) / prod.size)
    assert np.all(np.abs(observed - expected) / se < 4.5)


def test_printed_product_density_fails_the_mass_check():
    v11 = v22 = 1.0
    v12 = 0.5
    det = v11 * v22 - v12**2
    from scipy.special import k0

    printed = lambda t: math.exp(v12 * t / (2 * det)) * k0(math.sqrt(v11 * v22) * t / det) / (  # noqa: E731
        2 * math.pi * math.sqrt(det))
    mass = integrate.quad(printed, 0, np.inf, limit=400)[0]
    assert abs(mass - orthant_probability(0.5)) > 0.05  # 0.2596 vs g(0.5) = 1/3


def test_eq10_approximation_error():
    rho, err = EQ10_APPROXIMATION_WORST_ERROR
    assert abs(rho) < 0.2 and 0.09 < err < 0.1  # worst near rho = 0: 1/4 against 1/(2 pi)


@pytest.mark.parametrize("args, word", [((1.0, 1.0, 1.5), "semi-definite"), ((0.0, 1.0, 0.0), "v11"),
                                        ((1.0, np.nan, 0.0), "v22")])
def test_bad_covariance(args, word):
    with pytest.raises(ValueError, match=word):
        product_law(*args)
    with pytest.raises(ValueError, match="rho"):
        correlation_map(1.5)


def test_scalar_product_law_matches_real_sums():
    from sigdist.correlation import scalar_product_law
    from sigdist.montecarlo import compare

    v11, v22, v12, width = 1.0, 1.5, 0.6, 12
    law = scalar_product_law(v11, v22, v12, width, lattice_size=2048, tol=1e-4)  # the accuracy checked below
    assert law.atom == pytest.approx((1 - orthant_probability(v12 / math.sqrt(v11 * v22))) ** width, rel=1e-12)
    assert law.mean() == pytest.approx(mean_scalar_product(v11, v22, v12, width), rel=1e-9)
    assert law.error_estimate < 1e-4
    rng = np.random.default_rng(3)
    h = rng.multivariate_normal([0, 0], [[v11, v12], [v12, v22]], size=(50_000, width))
    sums = (np.maximum(h[..., 0], 0) * np.maximum(h[..., 1], 0)).sum(axis=1)
    assert compare(law, sums).passes()


def test_scalar_product_law_at_opposite_inputs_is_the_atom():
    from sigdist.correlation import scalar_product_law

    law = scalar_product_law(1.0, 1.0, -1.0, 5, lattice_size=256)
    assert law.atom == pytest.approx(1.0) and law.mean() == pytest.approx(0.0, abs=1e-15)


def test_relu_moments_against_closed_forms_and_monte_carlo():
    from sigdist.correlation import relu_moment

    for r in (-0.7, 0.0, 0.4, 0.95):
        law = product_law(1.3, 0.8, r * math.sqrt(1.3 * 0.8))
        assert relu_moment(1, 1, 1.3, 0.8, r * math.sqrt(1.04)) == pytest.approx(law.moment(1), rel=1e-12)
        assert relu_moment(2, 2, 1.3, 0.8, r * math.sqrt(1.04)) == pytest.approx(law.moment(2), rel=1e-12)
    assert relu_moment(4, 0, 2.0, 1.0, 0.5) == pytest.approx(1.5 * 4.0, rel=1e-12)
    rng = np.random.default_rng(4)
    h = rng.multivariate_normal([0, 0], [[1.0, 0.6], [0.6, 2.0]], size=400_000)
    x = np.maximum(h, 0)
    sample = x[:, 0] ** 3 * x[:, 1]
    z = (sample.mean() - relu_moment(3, 1, 1.0, 2.0, 0.6)) / (sample.std(ddof=1) / math.sqrt(sample.size))
    assert abs(z) < 4


def cosine_samples(width, c, sigma_w2, n, seed):
    rng = np.random.default_rng(seed)
    v = sigma_w2 * np.array([[1.0, c], [c, 1.0]])
    h = rng.multivariate_normal([0, 0], v, size=(n, width))
    x = np.maximum(h, 0)
    a, b, p = (x[..., 0] ** 2).sum(1), (x[..., 1] ** 2).sum(1), (x[..., 0] * x[..., 1]).sum(1)
    ok = (a > 0) & (b > 0)
    return p[ok] / np.sqrt(a[ok] * b[ok])


def test_mean_cosine_correction_is_first_order_in_one_over_width():
    from sigdist import Layer
    from sigdist.correlation import c_map, mean_cosine

    c = 0.9
    errs_inf, errs_first = [], []
    for width in (10, 20):
        inf, first = mean_cosine(1.0, 1.0, c, Layer(width, 2 / width))
        assert inf == pytest.approx(float(c_map(c)), rel=1e-12)  # the c-map at sigma_b = 0
        cos = cosine_samples(width, c, 2 / width, 400_000, seed=width)
        se = cos.std(ddof=1) / math.sqrt(cos.size)
        errs_inf.append(abs(cos.mean() - inf))
        errs_first.append(abs(cos.mean() - first))
        assert errs_inf[-1] > 10 * se  # the c-map misses the finite-width mean
        assert errs_first[-1] < errs_inf[-1] / 2
    # the corrected mean's residual is O(1/N^2): doubling N divides it by about four
    assert errs_first[0] / errs_first[1] > 2.5
    assert errs_inf[0] / errs_inf[1] == pytest.approx(2.0, rel=0.25)  # the c-map's error is O(1/N)


def test_pair_chain_agrees_in_law_with_real_networks():
    torch = pytest.importorskip("torch")  # noqa: F841
    from sigdist import Layer, Network
    from sigdist.correlation import pair_laws
    from sigdist.montecarlo import simulate

    net = Network([Layer(12, 2 / 8, 0.05), Layer(12, 2 / 12, 0.05), Layer(12, 2 / 12, 0.05)], input_width=8)
    x = np.random.default_rng(5).standard_normal((2, 8))
    chain = pair_laws(net, float(x[0] @ x[0]), float(x[1] @ x[1]), float(x[0] @ x[1]), n_samples=6000, seed=6)
    sim = simulate(net, x, 6000, seed=7, method="full")
    for l in range(3):
        a, b = chain.cosines[:, l], sim.cosines[:, l, 0, 1]
        assert stats.ks_2samp(a[np.isfinite(a)], b[np.isfinite(b)]).pvalue > 1e-3
        assert stats.ks_2samp(chain.dots[:, l], sim.dots[:, l, 0, 1]).pvalue > 1e-3
    # layer 1's mean scalar product is eq. 10
    v = 2 / 8 * np.array([[x[0] @ x[0], x[0] @ x[1]], [x[0] @ x[1], x[1] @ x[1]]]) + 0.05
    mean, se = chain.dot_mean
    assert abs(mean[0] - mean_scalar_product(v[0, 0], v[1, 1], v[0, 1], 12)) < 4 * se[0]


def test_pair_chain_bad_input():
    from sigdist import Network
    from sigdist.correlation import pair_laws

    with pytest.raises(ValueError, match="dot"):
        pair_laws(Network.constant(5, 2, 0.4), 1.0, 1.0, 1.5)
    with pytest.raises(ValueError, match="x1_sq"):
        pair_laws(Network.constant(5, 2, 0.4), -1.0, 1.0, 0.0)


def test_cosine_law_and_its_normal_approximation():
    from sigdist import Layer
    from sigdist.correlation import cosine_law

    law = cosine_law(1.0, 1.0, 0.25, Layer(100, 0.02), n_samples=40_000, seed=8)
    assert abs(law.mean - law.approx_mean) < 4 * law.standard_error + 2e-4  # O(1/N^2) residual
    assert law.p_undefined == 0.0
    assert float(law.cdf(law.ppf(0.5))) == pytest.approx(0.5, abs=1e-3)
    # the normal approximation is off by its skewness: a few percent at N = 100, measured, not assumed
    assert law.dkw_band < law.approx_error < 0.05


@pytest.mark.parametrize("builder", ["gsm", "looks_linear"])
def test_shared_pair_laws_match_real_parameter_shared_networks(builder):
    pytest.importorskip("torch")
    from sigdist import Network
    from sigdist.correlation import shared_pair_laws
    from sigdist.montecarlo import simulate

    net = getattr(Network, builder)([12, 12, 12, 12])
    x = np.random.default_rng(5).standard_normal((2, 12))
    d = x[:, :6] - x[:, 6:]
    chain = shared_pair_laws(net, d[0] @ d[0], d[1] @ d[1], d[0] @ d[1], n_samples=6000, seed=1)
    sim = simulate(net, x, 6000, seed=2)
    for l in range(3):
        assert stats.ks_2samp(chain.cosines[:, l], sim.cosines[:, l, 0, 1]).pvalue > 1e-3
        assert stats.ks_2samp(chain.dots[:, l], sim.dots[:, l, 0, 1]).pvalue > 1e-3
        if builder == "gsm":
            assert stats.ks_2samp(chain.norms1[:, l], sim.squared_norms[:, l, 0]).pvalue > 1e-3
        else:  # orthogonal W0: the norms are exactly preserved
            np.testing.assert_allclose(sim.squared_norms[:, l, 0], d[0] @ d[0], rtol=1e-12)
            np.testing.assert_allclose(chain.norms1[:, l], d[0] @ d[0], rtol=1e-12)


def test_what_parameter_sharing_preserves():
    from sigdist import Network
    from sigdist.correlation import shared_pair_laws

    c0 = 0.3
    ll = shared_pair_laws(Network.looks_linear([20] * 9), 1.0, 1.0, c0, n_samples=20_000, seed=3)
    gsm = shared_pair_laws(Network.gsm([20] * 9), 1.0, 1.0, c0, n_samples=20_000, seed=4)
    # looks-linear: the signal's cosine is preserved exactly, layer after layer
    np.testing.assert_allclose(ll.signal.cosines, c0, atol=1e-12)
    # GSM: the signal's scalar product is preserved on average (a linear Gaussian net at 2/fan-in)
    mean, se = gsm.signal.dot_mean
    assert np.all(np.abs(mean - c0) < 4 * se)
    # ... but not its cosine pathwise: it spreads out with depth
    assert np.nanstd(gsm.signal.cosines[:, -1]) > 2 * np.nanstd(gsm.signal.cosines[:, 0]) > 0
    # the cosine of the ReLU outputs x is not the signal's: negative products are dropped, so it is larger
    ll_mean, _ = ll.cosine_mean
    assert np.all(ll_mean > c0 + 0.1)
    # and for looks-linear its law does not drift with depth (the frame is uniformly random each layer)
    assert stats.ks_2samp(ll.cosines[:, 0], ll.cosines[:, -1]).pvalue > 1e-3


def test_regressions_from_review():
    from sigdist import Layer, Network
    from sigdist.correlation import mean_field_cosines, pair_laws, relu_moment, scalar_product_law

    assert product_law(1e200, 1e200, 0.5e200).rho == pytest.approx(0.5)
    assert math.isfinite(mean_scalar_product(1e170, 1e170, 0.5e170, 3))
    with pytest.raises(ValueError, match="chunk"):
        pair_laws(Network.constant(5, 1, 0.4), 1.0, 1.0, 0.0, chunk=0)
    with pytest.raises(ValueError, match="x1_sq"):
        mean_field_cosines(Network([Layer(10, 0.2)]), 0.0, 1.0, 0.0)
    # width 1: one component's own tail must fit the lattice
    law = scalar_product_law(1.0, 1.0, 0.0, 1, lattice_size=1024, tol=1e-2)  # the CDF; the mean is exact
    assert law.mean() == pytest.approx(1 / (2 * math.pi), rel=1e-6)
    # near rho = -1 the inner integrand concentrates at u = 0: adaptive quadrature
    from scipy import integrate as si

    r = -0.999
    ref = si.dblquad(lambda y, x: x**3 * y * np.exp(-(x * x - 2 * r * x * y + y * y) / (2 * (1 - r * r)))
                     / (2 * np.pi * np.sqrt(1 - r * r)), 0, 12, 0, 12, epsabs=1e-16, epsrel=1e-10)[0]
    assert relu_moment(3, 1, 1.0, 1.0, r) == pytest.approx(ref, rel=1e-8)


def test_scalar_product_law_warns_when_its_error_estimate_misses_tol():
    from sigdist import SigdistWarning
    from sigdist.correlation import scalar_product_law

    # the estimate was 5e-3 against the default tol 1e-6, silently
    with pytest.warns(SigdistWarning, match=r"error estimate 0\.00\d+ .* exceeds tol=1e-06; raise lattice_size"):
        law = scalar_product_law(1.0, 1.0, 0.5, 10)
    assert law.error_estimate > 1e-6
    for tol in (float("nan"), 0.0, -1e-3, 1.0, "1e-6", None):
        with pytest.raises(ValueError, match="tol must be a number in"):
            scalar_product_law(1.0, 1.0, 0.5, 10, tol=tol)


def test_pair_laws_refuses_a_zero_input_whose_cosine_is_undefined():
    from sigdist import Layer, Network
    from sigdist.correlation import pair_laws, shared_pair_laws

    # pair_laws(net, 0, 1, 0).cosine_mean was NaN at every layer
    net = Network.constant(5, 2, 0.4)
    with pytest.raises(ValueError, match="x1_sq must be > 0 when the first layer has sigma_b2 = 0"):
        pair_laws(net, 0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="x2_sq must be > 0"):
        pair_laws(net, 1.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="d1_sq must be > 0"):
        shared_pair_laws(Network.gsm([4, 4, 4]), 0.0, 1.0, 0.0)
    # with a bias the first layer's signals are nonzero and the cosine is defined
    biased = Network([Layer(5, 0.4, 0.1)] * 2)
    mean, se = pair_laws(biased, 0.0, 1.0, 0.0, n_samples=2000, seed=0).cosine_mean
    assert np.all(np.isfinite(mean)) and np.all(se > 0)
