"""One ReLU unit, two inputs: closed forms in V against quadrature and Monte Carlo (Thm. 5), and ProductLaw's contract."""

import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from sigdist import Law, Layer
from sigdist.relu_pair import (EQ10_APPROXIMATION_WORST_ERROR, ProductLaw, correlation_map, layer_covariance,
                               mean_scalar_product, orthant_probability, product_law, relu_moment)


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
    # eq. 10 over a layer of 7 units whose V is (v11, v22, v12): sigma_w2 = 1, sigma_b2 = 0, y = V
    assert mean_scalar_product(Layer(7, 1.0), v11, v22, v12) == pytest.approx(7 * law.mean(), rel=1e-14)
    # Fisher z for the sample correlation of the ReLU outputs
    r = np.corrcoef(x[:, 0], x[:, 1])[0, 1]
    assert abs(np.arctanh(r) - np.arctanh(correlation_map(rho))) * math.sqrt(x.shape[0] - 3) < 4
    assert correlation_map(rho) < rho


def test_layer_covariance_is_eq4():
    assert layer_covariance(Layer(5, 0.4, 0.1), 2.0, 3.0, -1.0) == pytest.approx((0.9, 1.3, -0.3), rel=1e-15)


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

    printed = lambda t: math.exp(v12 * t / (2 * det)) * special.k0(math.sqrt(v11 * v22) * t / det) / (  # noqa: E731
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


def test_layer_functions_refuse_bad_inputs_by_name():
    with pytest.raises(ValueError, match="y12 must satisfy"):
        layer_covariance(Layer(5, 0.4), 1.0, 1.0, 1.5)
    with pytest.raises(ValueError, match="y1"):
        mean_scalar_product(Layer(5, 0.4), -1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="layer must be a sigdist.Layer"):
        mean_scalar_product(None, 1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="i.i.d. Gaussian"):
        layer_covariance(Layer(5, 0.4, weight_law="uniform"), 1.0, 1.0, 0.0)


def test_huge_covariances_neither_overflow_nor_lose_the_correlation():
    assert product_law(1e200, 1e200, 0.5e200).rho == pytest.approx(0.5)
    assert math.isfinite(mean_scalar_product(Layer(3, 1.0), 1e170, 1e170, 0.5e170))


def test_relu_moments_against_closed_forms_and_monte_carlo():
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


def test_relu_moment_near_opposite_inputs_matches_double_quadrature():
    # near rho = -1 the inner integrand concentrates at u = 0 (the adaptive branch)
    r = -0.999
    ref = integrate.dblquad(lambda y, x: x**3 * y * np.exp(-(x * x - 2 * r * x * y + y * y) / (2 * (1 - r * r)))
                            / (2 * np.pi * np.sqrt(1 - r * r)), 0, 12, 0, 12, epsabs=1e-16, epsrel=1e-10)[0]
    assert relu_moment(3, 1, 1.0, 1.0, r) == pytest.approx(ref, rel=1e-8)


# -- ProductLaw: the Law contract against independent values ------------------------------------------

V = (1.3, 0.8, 0.45)  # rho = 0.44


def independent_product_cdf(t, v11, v22, v12):
    """``P(relu(h1) relu(h2) <= t)`` by conditioning on ``h1 = u > 0`` (no K0 density involved)."""
    s1, s2 = math.sqrt(v11), math.sqrt(v22)
    rho = v12 / (s1 * s2)
    sc = s2 * math.sqrt(1 - rho * rho)
    # P(h2 <= t / u | u) - P(h2 <= 0 | u) for u > 0, plus everything with h1 <= 0 or h2 <= 0
    inner = lambda u: (special.ndtr((t / u - rho * s2 * u / s1) / sc) - special.ndtr(-rho * s2 * u / s1 / sc)) \
        * math.exp(-0.5 * (u / s1) ** 2) / (s1 * math.sqrt(2 * math.pi))  # noqa: E731
    positive = sum(integrate.quad(inner, a, b, epsabs=1e-15, epsrel=1e-12, limit=400)[0]
                   for a, b in ((0.0, 1e-3), (1e-3, s1), (s1, np.inf)))
    return 1.0 - orthant_probability(rho) + positive


def test_product_law_is_a_law_with_its_support_and_atom():
    law = product_law(*V)
    assert isinstance(law, Law) and isinstance(law, ProductLaw)
    assert law.support() == (0.0, math.inf)
    assert law.atom == pytest.approx(1 - orthant_probability(0.45 / math.sqrt(1.04)), rel=1e-15)
    assert float(law.cdf(0.0)) == pytest.approx(law.atom, rel=1e-15) and float(law.cdf(-1.0)) == 0.0
    assert float(law.sf(-1.0)) == 1.0 and float(law.cdf(np.inf)) == pytest.approx(1.0, abs=1e-12)
    assert float(law.pdf(-1.0)) == 0.0
    with pytest.raises(ValueError, match="atom"):
        law.entropy()


@pytest.mark.parametrize("t", [0.01, 0.2, 1.0, 4.0])
def test_product_law_cdf_and_sf_match_an_independent_quadrature(t):
    law = product_law(*V)
    ref = independent_product_cdf(t, *V)
    # both are adaptive quadratures at relative accuracy 1e-12; 1e-10 leaves room for their error estimates
    assert float(law.cdf(t)) == pytest.approx(ref, abs=1e-10)
    assert float(law.sf(t)) == pytest.approx(1 - ref, abs=1e-10)
    assert float(law.logcdf(t)) == pytest.approx(math.log(ref), abs=1e-9)
    assert float(law.logpdf(t)) == pytest.approx(math.log(float(law.pdf(t))), rel=1e-14)


@pytest.mark.parametrize("q", [0.7, 0.9, 0.999])
def test_product_law_quantiles_invert_the_independent_cdf(q):
    law = product_law(*V)
    x = float(law.ppf(q))
    assert independent_product_cdf(x, *V) == pytest.approx(q, abs=1e-9)
    y = float(law.isf(1 - q))
    assert independent_product_cdf(y, *V) == pytest.approx(q, abs=1e-9)
    # below the atom's top every quantile is 0
    assert float(law.ppf(law.atom / 2)) == 0.0 and law.median() == 0.0
    lo, hi = law.interval(0.9)
    assert lo == 0.0 and hi == pytest.approx(float(law.isf(0.05)), rel=1e-12)


def test_product_law_moments_match_monte_carlo_and_its_own_quadrature():
    law = product_law(*V)
    rng = np.random.default_rng(11)
    h = rng.multivariate_normal([0, 0], [[V[0], V[2]], [V[2], V[1]]], size=400_000)
    prod = np.maximum(h[:, 0], 0) * np.maximum(h[:, 1], 0)
    for k in (1, 2, 3):
        sample = prod ** k
        z = (sample.mean() - law.moment(k)) / (sample.std(ddof=1) / math.sqrt(sample.size))
        assert abs(z) < 4, k
    # the closed forms of orders 1, 2 against quadrature of the density (expect), at quad's accuracy
    assert law.expect() == pytest.approx(law.mean(), rel=1e-9)
    assert law.expect(lambda x: x * x) == pytest.approx(law.moment(2), rel=1e-9)
    assert law.std() == pytest.approx(math.sqrt(law.moment(2) - law.mean() ** 2), rel=1e-14)
    m, v, s, k = law.stats("mvsk")
    assert (m, v) == (law.mean(), law.var())
    m3 = law.moment(3)
    assert s == pytest.approx((m3 - 3 * m * law.moment(2) + 2 * m**3) / v**1.5, rel=1e-12)


def test_product_law_samples_follow_the_law_and_repeat_with_the_seed():
    law = product_law(*V)
    x = law.rvs(200_000, random_state=5)
    assert np.array_equal(x, law.rvs(200_000, random_state=5))
    zeros = np.mean(x == 0)
    assert abs(zeros - law.atom) / math.sqrt(law.atom * (1 - law.atom) / x.size) < 4
    for t in (0.1, 0.5, 2.0):
        f = float(law.cdf(t))
        assert abs(np.mean(x <= t) - f) / math.sqrt(f * (1 - f) / x.size) < 4
    assert isinstance(law.rvs(random_state=np.random.default_rng(0)), float)


def test_product_law_at_equal_inputs_is_a_half_chi_square():
    law = product_law(2.0, 2.0, 2.0)  # rho = 1: x1 x2 = 2 relu(g)^2
    for t in (0.1, 1.0, 5.0):
        assert float(law.cdf(t)) == pytest.approx(0.5 + 0.5 * stats.chi2.cdf(t / 2.0, 1), abs=1e-10)
    assert law.mean() == pytest.approx(1.0, rel=1e-14)  # E relu(g)^2 = 1/2, times 2
    q = float(law.ppf(0.9))
    assert 0.5 + 0.5 * stats.chi2.cdf(q / 2.0, 1) == pytest.approx(0.9, abs=1e-10)


def test_product_law_at_opposite_inputs_is_the_atom_alone():
    law = product_law(1.0, 1.0, -1.0)
    assert law.atom == 1.0 and law.mean() == 0.0 and law.var() == 0.0
    assert float(law.cdf(0.0)) == 1.0 and float(law.ppf(0.9)) == 0.0 and float(law.isf(0.1)) == 0.0
    assert np.all(law.rvs(10, random_state=0) == 0.0)
