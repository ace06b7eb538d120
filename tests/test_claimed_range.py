"""The laws hold over the whole claimed range: widths 1-1e4, depths 1-1e4, bias on or off,
sigma_w2 from 1e-3/N to 16/N, y0 from 1e-300 to 1e300 (issue: no silent wrong answer).

Each law is checked against routes that share no code with it: an independent log-space
moment recursion written here from E[S] and E[S^2] of the chi-square mixtures, the closed
form of one layer (scipy's incomplete gamma), and nested quadrature for two layers.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

import sigdist
from sigdist import Layer, Network, SigdistWarning


def independent_log_moments(widths, sigma_w2, sigma_b2, activation, y0):
    """log E[z_L], log E[z_L^2] from E[S] = N/2, E[S^2] = N(N+5)/4 (relu) or N, N(N+2) (linear)."""
    l1, l2 = math.log(y0), 2 * math.log(y0)
    for n, w, b in zip(widths, sigma_w2, sigma_b2):
        e1, e2 = (n / 2, n * (n + 5) / 4) if activation == "relu" else (n, n * (n + 2))
        s1 = np.logaddexp(math.log(w) + l1, math.log(b)) if b > 0 else math.log(w) + l1
        parts = [2 * math.log(w) + l2]
        if b > 0:
            parts += [math.log(2 * w * b) + l1, 2 * math.log(b)]
        l1, l2 = math.log(e1) + s1, math.log(e2) + float(np.logaddexp.reduce(parts))
    return l1, l2


layers = st.tuples(
    st.integers(1, 10_000),                        # width
    st.floats(math.log(1e-3), math.log(16.0)),     # log(sigma_w2 * N)
    st.booleans(),                                 # bias
    st.sampled_from(["relu", "linear"]),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layer=layers, depth=st.sampled_from([1, 2, 3, 7, 30, 300, 10_000]),
       log10_y0=st.floats(-300, 300))
def test_moments_and_cdf_over_the_claimed_range(layer, depth, log10_y0):
    width, log_gain, bias, activation = layer
    # a biased chain is iterated layer by layer (~10 ms a layer) unless one fixed grid holds its whole
    # path: depth 1e4 with bias has its own test below
    if bias:
        depth = min(depth, 30)
    sigma_w2 = math.exp(log_gain) / width
    sigma_b2 = 0.1 * sigma_w2 if bias else 0.0
    y0 = 10.0 ** log10_y0
    net = Network.constant(width, depth, sigma_w2, sigma_b2, activation)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SigdistWarning)
        law = sigdist.squared_norm_law(net, y0)
    # the moments are exact (a log-space recursion), whatever the depth: compare in logs
    l1, l2 = independent_log_moments([width] * depth, [sigma_w2] * depth, [sigma_b2] * depth, activation, y0)
    assert law.log_moment(1)[0] == pytest.approx(l1, rel=1e-12, abs=1e-9)
    assert law.log_moment(2)[0] == pytest.approx(l2, rel=1e-12, abs=1e-9)
    # the law either meets tol or says so
    if law.error_estimate > law.tol:
        assert any("error estimate" in str(w.message) for w in caught)
    # a distribution: cdf + sf = 1 - mass lost, monotone, no NaN, nonnegative density
    # a law that lies beyond the float64 range (He-like gain 16 at depth 1e4) or whose continuous part
    # underflows (relu N = 1 at depth 1e4: 2^-10000) has no float quantiles to check
    if law.continuous is not None and law.continuous.mass > 0 and law.grid.end < 700 and law.grid.start > -700:
        # quantiles of the continuous part (for relu N = 1 at depth 300 it is 2^-300 of the law)
        p = np.array([0.05, 0.5, 0.95]) * law.continuous.mass
        z = law.ppf_continuous(p)
        assert np.all(np.isfinite(z)) and np.all(np.diff(z) > 0)
        np.testing.assert_allclose(law.cdf_continuous(z), p, rtol=1e-9)
        np.testing.assert_allclose(law.cdf(z) + law.sf(z), 1 - law.mass_lost, atol=max(law.error_estimate, 1e-13))
        assert np.all(law.continuous.values >= 0)


@settings(max_examples=25, deadline=None)
@given(width=st.integers(1, 10_000), log_gain=st.floats(math.log(1e-3), math.log(16.0)),
       bias=st.booleans(), log10_y0=st.floats(-300, 300), activation=st.sampled_from(["relu", "linear"]),
       p=st.floats(-300, -1))
def test_one_layer_tails_are_the_closed_form_to_relative_1e_10(width, log_gain, bias, log10_y0, activation, p):
    sigma_w2 = math.exp(log_gain) / width
    sigma_b2 = 0.3 * sigma_w2 if bias else 0.0
    y0 = 10.0 ** log10_y0
    law = sigdist.squared_norm_law(Network.constant(width, 1, sigma_w2, sigma_b2, activation), y0)
    s = sigma_w2 * y0 + sigma_b2
    # K = N for linear; for relu the left tail of the continuous part is dominated by small K
    k = np.arange(1, width + 1)
    if activation == "relu":
        logw = special.gammaln(width + 1) - special.gammaln(k + 1) - special.gammaln(width - k + 1) - width * math.log(2)
    else:
        logw = np.where(k == width, 0.0, -np.inf)
    # a right-tail point with sf ~ 10^p, by the largest chi2 component's isf
    t_right = s * stats.chi2(width).isf(10.0 ** p)
    exact_sf = float(np.exp(logw) @ special.gammaincc(k / 2, t_right / (2 * s)))
    if exact_sf > 1e-300:
        assert float(law.sf(t_right)) == pytest.approx(exact_sf, rel=1e-10)
        assert float(law.isf(exact_sf)) == pytest.approx(t_right, rel=1e-9)
    t_left = s * stats.chi2(1 if activation == "relu" else width).ppf(10.0 ** p)
    exact_cdf = float(np.exp(logw) @ special.gammainc(k / 2, t_left / (2 * s)))
    if exact_cdf > 1e-300 and t_left > 0:
        assert float(law.cdf_continuous(t_left)) == pytest.approx(exact_cdf, rel=1e-10)
        assert float(law.ppf_continuous(exact_cdf)) == pytest.approx(t_left, rel=1e-9)


def two_layer_relu_cdf(t, n, sigma_w2, y0):
    """P(0 < z_2 <= t) for zero-bias relu by quadrature over log z_1 (scipy, independent of sigdist)."""
    k = np.arange(1, n + 1)
    w = np.exp(special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1) - n * math.log(2))
    s1 = sigma_w2 * y0

    def integrand(u):  # density of u = log z_1 times P(0 < S <= t / (sigma_w2 z_1)), in logs
        log_x = u - math.log(s1)  # x = z_1 / s1 ~ chi2_k: the density of log x is e^{(k/2) log(x/2) - x/2} / Gamma(k/2)
        dens = float(w @ np.exp(k / 2 * (log_x - math.log(2)) - 0.5 * math.exp(log_x) - special.gammaln(k / 2)))
        ratio = math.exp(min(math.log(t) - math.log(2 * sigma_w2) - u, 700.0))
        return dens * float(w @ special.gammainc(k / 2, ratio))

    centre = math.log(s1 * n / 2)
    pieces = [centre - 800, centre - 200, centre - 40, centre - 8, centre, centre + 3, centre + 6]
    return sum(integrate.quad(integrand, a, b, epsabs=0, epsrel=1e-13, limit=200)[0]
               for a, b in zip(pieces[:-1], pieces[1:]))


@pytest.mark.parametrize("n, log10_t", [(1, -200), (1, -40), (1, -3), (3, -60), (3, -10), (5, -25)])
def test_two_layer_left_tail_keeps_relative_accuracy(n, log10_t):
    sigma_w2, y0 = 2.0 / n, 1.7
    law = sigdist.squared_norm_law(Network.constant(n, 2, sigma_w2), y0)
    ref = two_layer_relu_cdf(10.0**log10_t, n, sigma_w2, y0)
    assert float(law.cdf_continuous(10.0**log10_t)) == pytest.approx(ref, rel=1e-9)


def test_deep_narrow_law_has_its_exact_moments():
    # relu N = 1, depth 81: E z = 0.5^81 (the grid alone gave -2.4e70 with an error estimate of 9e-10)
    law = sigdist.squared_norm_law(Network.constant(1, 81, 1.0), 1.0)
    assert law.mean() == pytest.approx(0.5**81, rel=1e-13)
    assert law.moment(2) == pytest.approx(1.5**81, rel=1e-13)  # E S^2 = 3/2 for N = 1
    assert law.moment(0.5) == pytest.approx((2**0.5 * special.gamma(1.0) / special.gamma(0.5) / 2) ** 81, rel=1e-12)
    assert np.all(law.continuous.values >= 0)


@pytest.mark.parametrize("n, depth", [(4, 200), (8, 300), (20, 1000)])
def test_he_second_moment_at_depth_is_exact(n, depth):
    law = sigdist.squared_norm_law(Network.constant(n, depth, 2.0 / n), 1.0)
    assert law.log_moment(2)[0] == pytest.approx(depth * math.log(1 + 5 / n), rel=1e-12)


def test_moment_beyond_float64_is_inf_with_a_warning_and_finite_in_logs():
    net = Network.constant(100, 400, 0.16)
    with pytest.warns(SigdistWarning, match="float64 range"):
        exact = sigdist.squared_norm_moments(net, 1.0)
        mean, second = exact.first_moment, exact.second_moment
    assert np.all(np.isfinite(mean[:300])) and np.isinf(mean[-1]) and not np.any(np.isnan(second))
    log_mean = exact.log_first_moment
    assert log_mean[-1] == pytest.approx(400 * math.log(8.0), rel=1e-13)


@pytest.mark.parametrize("dist, first_infinite", [(stats.halfcauchy(), 1), (stats.pareto(1.5), 2),
                                                  (stats.pareto(2.5), 3), (stats.invgamma(2.5), 3)])
def test_heavy_tailed_inputs_give_infinite_moments(dist, first_infinite):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SigdistWarning)  # their densities jump: the grid warns, not the moments
        law = sigdist.squared_norm_law(Network.constant(10, 2, 0.2), input_law=dist)
    for k in range(1, 4):
        assert math.isinf(law.moment(k)) == (k >= first_infinite), k
    if first_infinite > 1:  # E z_2 = E y0 (N sigma_w2 / 2)^2 = E y0
        assert law.mean() == pytest.approx(float(dist.mean()), rel=1e-12)


def test_wide_layers_with_bias_keep_their_mass():
    # the log-dense route skipped every kernel value with e^x / 2 > 800: all mass lost from N ~ 3000
    for n in (2500, 3500, 5000, 10_000):
        law = sigdist.squared_norm_law(Network.constant(n, 2, 1 / n, 1 / n), 1.0)
        assert law.mass_lost < 1e-10 and law.error_estimate < law.tol
        assert law.mean() == pytest.approx(1.0, rel=1e-13)


def test_deep_networks_meet_the_default_tol_in_bounded_memory():
    # He N = 200 to depth 1e4 (one inverse FFT of the product's characteristic function), and a biased
    # chain to depth 1e4 (one fixed grid): neither warns at the default tol
    with warnings.catch_warnings():
        warnings.simplefilter("error", SigdistWarning)
        he = sigdist.squared_norm_law(Network.constant(200, 10_000, 0.01), 1.0)
        biased = sigdist.squared_norm_law(Network.constant(20, 10_000, 1.6 / 20, 0.05), 1.0)
    assert he.mean() == pytest.approx(1.0, rel=1e-12)
    # the median of log z_L is its mean within a skew of order 1 / sqrt(depth): check it on the grid
    from sigdist._mellin import ProductTails

    _, mean_log, var_log = ProductTails([(Layer(200, 0.01), 10_000)], 1.0).cgf(0.0)
    assert math.log(he.median()) == pytest.approx(mean_log, abs=0.05 * math.sqrt(var_log))
    stationary = sigdist.stationary.stationary_law(Layer(20, 1.6 / 20, 0.05))
    z = stationary.ppf([0.1, 0.5, 0.9])
    np.testing.assert_allclose(biased.cdf(z), stationary.cdf(z), atol=1e-7)


def test_layer_laws_at_depth_agree_with_the_one_step_route():
    net = Network.constant(50, 40, 2 / 50)
    last = sigdist.layer_laws(net, 1.0)[-1]
    direct = sigdist.squared_norm_law(net, 1.0)
    z = direct.ppf(np.linspace(0.01, 0.99, 25))
    np.testing.assert_allclose(last.cdf(z), direct.cdf(z), atol=last.error_estimate + direct.error_estimate)
