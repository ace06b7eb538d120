"""Leaky relu / PReLU exactly: S = chi2_K + a^2 chi2_{N-K} against independent references.

References: the negative-binomial chi-square series in mpmath (S / a^2 = chi2_{N+2J}, J | K ~ NegBin(K/2, a^2)),
mpmath quadrature of the convolution given K (small slopes, where the series is too long), nested
Gauss-Legendre quadrature of the one-layer kernel for three layers, and Monte Carlo with its standard error.
"""

import math
import warnings

import mpmath as mp
import numpy as np
import pytest
from scipy import integrate, stats

import sigdist
from sigdist import Layer, Network, SigdistWarning, leaky
from sigdist.kernel import Chi2Mixture, kernel_cdf, kernel_logpdf, kernel_sf
from sigdist.montecarlo import dense_squared_norms

mp.mp.dps = 40


def nb_series(width, slope, ts):
    """``(cdf, pdf)`` of ``S`` at each ``t``: sum over ``j`` of ``P(J = j) P(chi2_{N+2j} <= t / a^2)``.

    The NegBin(K/2, a^2) law follows from ``(1 + 2 lam / a^2)^{-K/2} = sum_j NB(j) (1 + 2 lam)^{-K/2-j}``
    (the Laplace transforms); the incomplete gamma functions follow ``P(nu + 1, x) = P(nu, x) - x^nu e^-x / nu!``.
    """
    n, p = width, mp.mpf(slope) ** 2
    jmax = int(4 * n * (1 - float(p)) / float(p) + 80 / -math.log1p(-float(p)))  # (1 - p)^j below e^-80
    pj = [mp.mpf(0)] * (jmax + 1)
    for k in range(n + 1):
        wk = mp.binomial(n, k) / mp.mpf(2) ** n
        if k == 0:
            pj[0] += wk
            continue
        r, term = mp.mpf(k) / 2, p ** (mp.mpf(k) / 2)
        for j in range(jmax + 1):
            pj[j] += wk * term
            term *= (r + j) / (j + 1) * (1 - p)
    assert 1 - mp.fsum(pj) < mp.mpf(10) ** -30  # the series' tail past jmax
    out = []
    for t in ts:
        x, nu = mp.mpf(t) / p / 2, mp.mpf(n) / 2
        cdf_j = mp.gammainc(nu, 0, x, regularized=True)
        dens = mp.exp((nu - 1) * mp.log(x) - x - mp.loggamma(nu))
        cdf = pdf = mp.mpf(0)
        for j in range(jmax + 1):
            cdf += pj[j] * cdf_j
            pdf += pj[j] * dens
            cdf_j -= dens * x / nu
            dens *= x / nu
            nu += 1
        out.append((cdf, pdf / (2 * p)))
    return out


def convolution_cdf(width, slope, t):
    """``P(S <= t)`` as ``sum_K P(K) int_0^t p_{chi2_K}(u) P(a^2 chi2_{N-K} <= t - u) du`` (mpmath tanh-sinh)."""
    a2, t = mp.mpf(slope) ** 2, mp.mpf(t)
    total = mp.mpf(0)
    for k in range(width + 1):
        wk = mp.binomial(width, k) / mp.mpf(2) ** width
        m = width - k
        if k == 0:
            total += wk * mp.gammainc(mp.mpf(m) / 2, 0, t / a2 / 2, regularized=True)
        elif m == 0:
            total += wk * mp.gammainc(mp.mpf(k) / 2, 0, t / 2, regularized=True)
        else:
            dens = lambda u, k=k: mp.exp((mp.mpf(k) / 2 - 1) * mp.log(u) - u / 2 - mp.mpf(k) / 2 * mp.log(2)  # noqa
                                         - mp.loggamma(mp.mpf(k) / 2))
            total += wk * mp.quad(lambda u: dens(u) * mp.gammainc(mp.mpf(m) / 2, 0, (t - u) / a2 / 2,
                                                                  regularized=True), [0, t])
    return total


def leaky_layer(width, sw2=1.0, sb2=0.0, slope=0.2):
    return Layer(width, sw2, sb2, activation="leaky_relu", negative_slope=slope)


@pytest.mark.parametrize("width, slope", [(1, 0.2), (2, 0.2), (5, 0.5), (20, 0.2), (20, 0.7)])
def test_mixture_matches_the_negative_binomial_series(width, slope):
    mix = Chi2Mixture(leaky_layer(width, slope=slope))
    ts = np.array([0.01, 0.3, 2.0, float(width), 3.0 * width + 5.0])
    ref = nb_series(width, slope, ts)
    cdf, pdf = mix.cdf_positive(ts), mix.log_density(np.log(ts)) / ts
    for i in range(ts.size):
        assert cdf[i] == pytest.approx(float(ref[i][0]), abs=2e-15)
        assert pdf[i] == pytest.approx(float(ref[i][1]), rel=1e-12)
    # P(S > t) keeps relative accuracy where 1 - cdf cannot
    assert mix.sf(ts[-1]) == pytest.approx(float(1 - ref[-1][0]), rel=1e-9)


@pytest.mark.parametrize("slope", [0.01, 0.003])
def test_small_slopes_match_the_convolution_quadrature(slope):
    # PyTorch's default a = 0.01: the series would need ~N / (4 a^2) terms; the mixture has a few hundred
    width = 3
    mix = Chi2Mixture(leaky_layer(width, slope=slope))
    assert mix.k.size < 200
    for t in (1e-5, 1e-3, 0.5, 4.0):
        assert mix.cdf_positive(t) == pytest.approx(float(convolution_cdf(width, slope, t)), rel=1e-12, abs=1e-16)


@pytest.mark.parametrize("width, slope", [(2, 0.2), (5, 0.01), (20, 0.2), (200, 0.5)])
def test_halving_the_quadrature_step_changes_the_laws_by_roundoff(width, slope, monkeypatch):
    # the trapezoid rule in v converges geometrically: a twice finer rule agrees to ~1e-13 relative,
    # far into both tails (down to 1e-280), so the default step is past convergence
    layer = leaky_layer(width, slope=slope)
    right = np.array([3.0 * width + 10, 10.0 * width + 30, 600.0 + 3 * width])
    left = np.array([1e-3 * slope**2 * width, 1e-20 * slope**2])
    base = Chi2Mixture(layer, cutoff=745.0)
    monkeypatch.setattr(leaky, "_STEP_FRACTION", leaky._STEP_FRACTION / 2)
    monkeypatch.setattr(leaky, "_MAX_STEP", leaky._MAX_STEP / 2)
    leaky._cached_terms.cache_clear()
    try:
        fine = Chi2Mixture(layer, cutoff=745.0)
    finally:
        leaky._cached_terms.cache_clear()
    assert fine.k.size > base.k.size
    sf, sf_fine = base.sf(right), fine.sf(right)
    keep = sf_fine > 0
    np.testing.assert_allclose(sf[keep], sf_fine[keep], rtol=2e-13)
    cdf, cdf_fine = base.cdf_positive(left), fine.cdf_positive(left)
    keep = cdf_fine > 0
    np.testing.assert_allclose(cdf[keep], cdf_fine[keep], rtol=2e-13)
    x = np.log(np.concatenate([left, right]))
    np.testing.assert_allclose(base.log_log_density(x), fine.log_log_density(x), atol=2e-13)


def gil_pelaez_cdf(width, slope, t):
    """``P(S <= t)`` from the closed-form characteristic function
    ``E e^{i xi S} = 2^-N ((1 - 2 i xi)^{-1/2} + (1 - 2 i a^2 xi)^{-1/2})^N`` (Gil-Pelaez, adaptive quadrature)."""
    def integrand(xi):
        half_sum = 0.5 * ((1 - 2j * xi) ** -0.5 + (1 - 2j * slope**2 * xi) ** -0.5)  # real part > 0: no branch cut
        return (np.exp(-1j * xi * t + width * np.log(half_sum))).imag / xi
    value, err = integrate.quad(integrand, 0, np.inf, limit=2000, epsabs=1e-15, epsrel=1e-13)
    assert err < 2e-13
    return 0.5 - value / math.pi


@pytest.mark.parametrize("width", [100, 10000])
def test_wide_layers_match_the_characteristic_function(width):
    a = 0.2
    mix = Chi2Mixture(leaky_layer(width, slope=a))
    mean = width * (1 + a * a) / 2
    sd = math.sqrt(width * (3 * (1 + a**4) / 2 - ((1 + a * a) / 2) ** 2))
    for t in (mean - 2 * sd, mean, mean + 2 * sd):
        assert mix.cdf_positive(t) == pytest.approx(gil_pelaez_cdf(width, a, t), abs=3e-13)


@pytest.mark.parametrize("slope", [0.2, 1e-8, 1 - 1e-6, 1 + 1e-9])
def test_mixture_weights_sum_to_one(slope):
    for width in (1, 2, 20, 1000):
        mix = Chi2Mixture(leaky_layer(width, slope=slope))
        assert math.fsum(np.exp(mix.log_weights)) + mix.dropped == pytest.approx(1.0, abs=1e-13)
        assert mix.atom == 0.0


def test_slope_near_one_is_near_linear():
    # |S - chi2_N| <= |1 - a^2| chi2_N: the CDFs differ by at most about |1 - a^2| t p(t) <= 1e-6 here
    t = np.array([5.0, 20.0, 40.0])
    linear = Chi2Mixture(Layer(20, 1.0, activation="linear")).cdf_positive(t)
    for slope in (1 - 1e-7, 1 + 1e-7):
        diff = np.abs(Chi2Mixture(leaky_layer(20, slope=slope)).cdf_positive(t) - linear)
        assert np.all(diff < 1e-6) and np.all(diff > 0)


def test_slope_above_one_is_a_scaled_slope_below_one():
    # chi2_K + 9 chi2_{N-K} = 9 (chi2_{N-K} + chi2_K / 9): the law for a = 3 is 9 times that for a = 1/3
    big, small = Chi2Mixture(leaky_layer(20, slope=3.0)), Chi2Mixture(leaky_layer(20, slope=1 / 3))
    t = np.array([1.0, 30.0, 100.0, 300.0])
    np.testing.assert_allclose(big.cdf_positive(t), small.cdf_positive(t / 9.0), rtol=1e-13)
    np.testing.assert_allclose(big.sf(t), small.sf(t / 9.0), rtol=1e-13)


@pytest.mark.parametrize("sb2", [0.0, 0.05])
def test_zero_slope_is_relu_and_unit_slope_is_linear_to_the_last_digit(sb2):
    z = np.array([0.05, 0.3, 1.0, 2.0, 5.0])
    for slope, act in ((0.0, "relu"), (1.0, "linear"), (-1.0, "linear")):
        net = Network([Layer(20, 1.5 / 20, sb2, activation="leaky_relu", negative_slope=slope)] * 3)
        ref = Network([Layer(20, 1.5 / 20, sb2, activation=act)] * 3)
        law, ref_law = sigdist.squared_norm_law(net, 1.0), sigdist.squared_norm_law(ref, 1.0)
        np.testing.assert_array_equal(law.cdf(z), ref_law.cdf(z))
        assert law.atom == ref_law.atom


def test_negative_slope_has_the_law_of_its_absolute_value():
    z = np.array([0.05, 0.3, 1.0, 2.0, 5.0])
    for sb2 in (0.0, 0.05):
        laws = [sigdist.squared_norm_law(Network([leaky_layer(20, 1.5 / 20, sb2, slope)] * 2), 1.0)
                for slope in (0.2, -0.2)]
        np.testing.assert_array_equal(laws[0].cdf(z), laws[1].cdf(z))


@pytest.mark.parametrize("sb2", [0.0, 0.05])
def test_one_layer_law_matches_the_series(sb2):
    layer = leaky_layer(20, 1.5 / 20, sb2, 0.2)
    law = sigdist.squared_norm_law(Network([layer]), 1.0)
    z = np.array([0.2, 0.5, 1.0, 1.5, 3.0])
    s = 1.5 / 20 + sb2
    ref = nb_series(20, 0.2, z / s)
    np.testing.assert_allclose(law.cdf(z), [float(r[0]) for r in ref], rtol=0, atol=1e-13)
    np.testing.assert_allclose(kernel_cdf(layer, 1.0, z), [float(r[0]) for r in ref], rtol=0, atol=2e-15)
    np.testing.assert_allclose(np.exp(kernel_logpdf(layer, 1.0, z)), [float(r[1]) / s for r in ref], rtol=1e-12)
    assert np.all(kernel_sf(layer, 1.0, z) + kernel_cdf(layer, 1.0, z) == pytest.approx(1.0, abs=1e-15))


_GL_X, _GL_W = np.polynomial.legendre.leggauss(24)


def _nested_cdf(layer, y0, depth, cs, ranges, panels):
    """``P(z_depth <= c)`` by Gauss-Legendre panels in ``log y`` over the exact kernel density, layer by layer."""
    ys, ws = np.array([y0]), np.array([1.0])
    for lo, hi in ranges[:depth - 1]:
        edges = np.linspace(lo, hi, panels + 1)
        mid, half = 0.5 * (edges[1:] + edges[:-1]), 0.5 * np.diff(edges)
        u = (mid[:, None] + half[:, None] * _GL_X).ravel()
        w = (half[:, None] * _GL_W).ravel()
        z = np.exp(u)
        dens = np.exp(kernel_logpdf(layer, ys[:, None], z[None, :])) * z
        ys, ws = z, w * (ws @ dens)
    return np.array([float(ws @ kernel_cdf(layer, ys, c)) for c in cs])


@pytest.mark.parametrize("sb2", [0.0, 0.05])
def test_three_layers_match_nested_quadrature_within_the_error_estimate(sb2):
    layer = leaky_layer(20, 1.5 / 20, sb2, 0.2)
    laws = sigdist.layer_laws(Network([layer] * 3), 1.0)
    ranges = [(math.log(l.ppf(1e-16)), math.log(l.isf(1e-18))) for l in laws[:2]]
    cs = laws[2].ppf([0.001, 0.1, 0.5, 0.9, 0.999])
    ref = _nested_cdf(layer, 1.0, 3, cs, ranges, panels=36)
    err = np.abs(laws[2].cdf(cs) - ref)
    # the reference converges to ~1e-16 (60 against 120 panels); the law's error is its dropped tails
    assert np.all(err <= laws[2].error_estimate), (err, laws[2].error_estimate)
    assert laws[2].error_estimate <= 1e-8


def test_far_right_tail_of_a_biased_second_layer_keeps_relative_accuracy():
    # P(z_2 > c) = int p_{z_1}(y) P(z_2 > c | y) dy by adaptive quadrature over the exact one-layer kernel
    layer = leaky_layer(20, 1.5 / 20, 0.05, 0.2)
    law = sigdist.squared_norm_law(Network([layer] * 2), 1.0)
    for c in (10.0, 100.0):
        def integrand(u):
            y = math.exp(u)
            return math.exp(float(kernel_logpdf(layer, 1.0, y))) * y * float(kernel_sf(layer, y, c))
        ref, _ = integrate.quad(integrand, -12, 8, limit=500, epsabs=0, epsrel=1e-12, points=[0, 2, 4])
        assert float(law.sf(c)) == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("sb2", [0.0, 0.05])
def test_three_layers_agree_with_monte_carlo(sb2):
    # PyTorch's default slope; the law's CDF at its own quantiles against the empirical frequency
    # (a binomial proportion: z-score against its standard error at a fixed seed)
    layers = [leaky_layer(20, 1.5 / 20, sb2, 0.01)] * 3
    law = sigdist.squared_norm_law(Network(layers), 1.0)
    n = 40000
    x0 = np.full(5, 1 / math.sqrt(5))  # |x0|^2 = 1
    z = dense_squared_norms(Network(layers, input_width=5), x0, n, seed=11)[:, -1]
    for q in (0.05, 0.3, 0.5, 0.7, 0.95):
        p_hat = np.mean(z <= float(law.ppf(q)))
        assert abs(p_hat - q) < 4.0 * math.sqrt(q * (1 - q) / n), (q, p_hat)


def test_moments_are_exact():
    # E phi(g)^2 = (1 + a^2) / 2, E phi(g)^4 = 3 (1 + a^4) / 2: E S and E S^2 in closed form
    a, width, sw2, sb2 = 0.2, 20, 1.5 / 20, 0.05
    net = Network([leaky_layer(width, sw2, sb2, a)] * 3)
    m1 = width * (1 + a * a) / 2
    m2 = width * 3 * (1 + a**4) / 2 + width * (width - 1) * ((1 + a * a) / 2) ** 2
    e1, e2 = 1.0, 1.0
    for _ in range(3):
        e1, e2 = m1 * (sw2 * e1 + sb2), m2 * (sw2 * sw2 * e2 + 2 * sw2 * sb2 * e1 + sb2 * sb2)
    moments = sigdist.squared_norm_moments(net, 1.0)
    assert moments.first_moment[-1] == pytest.approx(e1, rel=1e-13)
    assert moments.second_moment[-1] == pytest.approx(e2, rel=1e-13)
    law = sigdist.squared_norm_law(net, 1.0)
    assert law.mean() == pytest.approx(e1, rel=1e-10)
    assert law.var() == pytest.approx(e2 - e1 * e1, rel=1e-8)


def test_real_moments_of_a_zero_bias_chain_are_exact():
    # E[S^r] = sum_j P(J = j) a^{2r} 2^r Gamma(N/2 + j + r) / Gamma(N/2 + j) from the series' weights
    width, a, r = 6, 0.3, 0.7
    n, p = width, mp.mpf(a) ** 2
    ref = mp.mpf(0)
    for k in range(n + 1):
        wk = mp.binomial(n, k) / mp.mpf(2) ** n
        if k == 0:
            ref += wk * p**r * 2**r * mp.gamma(mp.mpf(n) / 2 + r) / mp.gamma(mp.mpf(n) / 2)
            continue
        h, term = mp.mpf(k) / 2, p ** (mp.mpf(k) / 2)
        for j in range(3000):
            ref += wk * term * p**r * 2**r * mp.gamma(mp.mpf(n) / 2 + j + r) / mp.gamma(mp.mpf(n) / 2 + j)
            term *= (h + j) / (j + 1) * (1 - p)
    law = sigdist.squared_norm_law(Network([leaky_layer(width, 0.5, 0.0, a)] * 2), 2.0)
    log_m, err = law.log_moment(r)
    assert err == 0.0
    assert log_m == pytest.approx(float(r * math.log(2.0 * 0.25) + 2 * mp.log(ref)), abs=1e-13)


@pytest.mark.parametrize("width", [1, 3, 100, 1000, 10000])
def test_widths_one_to_ten_thousand_meet_the_default_tol(width):
    net = Network([leaky_layer(width, 2 / width, 0.01, 0.2)] * 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SigdistWarning)  # no warning at the default tol
        law = sigdist.squared_norm_law(net, 1.0)
    assert law.error_estimate <= 1e-8
    m1 = width * (1 + 0.04) / 2
    e1 = 1.0
    for _ in range(3):
        e1 = m1 * (2 / width * e1 + 0.01)
    assert law.mean() == pytest.approx(e1, rel=1e-9)
    assert law.cdf(law.ppf(0.3)) == pytest.approx(0.3, abs=1e-12)


def test_width_one_law_is_two_scaled_chi2_one():
    # N = 1: S = chi2_1 or a^2 chi2_1 with probability 1/2 each
    layer = leaky_layer(1, 1.0, 0.0, 0.2)
    law = sigdist.squared_norm_law(Network([layer]), 1.0)
    z = np.array([1e-4, 0.01, 0.3, 2.0, 9.0])
    ref = 0.5 * stats.chi2.cdf(z, 1) + 0.5 * stats.chi2.cdf(z / 0.04, 1)
    np.testing.assert_allclose(law.cdf(z), ref, rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("slope", [float("nan"), float("inf"), -float("inf"), "x"])
def test_bad_slope_is_refused_by_name(slope):
    with pytest.raises(ValueError, match="negative_slope"):
        Layer(10, 1.0, activation="leaky_relu", negative_slope=slope)
