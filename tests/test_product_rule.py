"""Product integration against a law known by its CDF (sigdist/_product_rule.py), and the narrow layers
of saturating or non-monotone activations that need it (issue 14)."""

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, stats

from sigdist import Layer, Network, SigdistWarning, squared_norm_law
from sigdist._product_rule import product_nodes

Z_MAX = 4.5  # Monte Carlo z-score bound


def test_the_rule_integrates_polynomials_in_log_y_exactly_against_any_law():
    law = stats.gamma(0.4, scale=2.0)  # F(y) ~ y^0.4 at 0: singular
    lo, hi = math.log(1e-3), math.log(30.0)
    u, w = product_nodes(law.cdf, lo, hi, [], 2.0)  # panels of width <= 2 in u
    edges = np.linspace(lo, hi, int(math.ceil((hi - lo) / 2.0)) + 1)
    for degree in (0, 3, 15):
        poly = lambda v, d=degree: ((v - lo) / (hi - lo)) ** d  # noqa: E731
        # exact for a polynomial of degree <= 15 on each panel: compare with quad panel by panel
        exact = sum(integrate.quad(lambda t: poly(math.log(t)) * law.pdf(t), math.exp(a), math.exp(b),
                                   epsabs=0, epsrel=1e-13, limit=200)[0] for a, b in zip(edges[:-1], edges[1:]))
        assert abs(w @ poly(u) - exact) <= 1e-13


def test_a_break_at_the_singular_point_gives_a_smooth_integrand_full_accuracy():
    # F with a kink of order 1/3 at y = 1 (inside the range): a shifted gamma mixture
    law = stats.gamma(1.0 / 3.0, loc=1.0, scale=0.5)

    def cdf(y):
        return 0.5 * stats.gamma(2.0, scale=0.5).cdf(y) + 0.5 * law.cdf(y)

    def g(y):
        return np.exp(-0.3 * y) * np.cos(y)

    pdf_a = stats.gamma(2.0, scale=0.5).pdf
    # the shifted gamma's density (t - 1)^(-2/3) e^(-2 (t - 1)) / (Gamma(1/3) 0.5^(1/3)): quad's algebraic weight
    c = 1.0 / (math.gamma(1.0 / 3.0) * 0.5 ** (1.0 / 3.0))
    exact = 0.5 * integrate.quad(lambda t: g(t) * pdf_a(t), 0, 80, epsabs=1e-16, epsrel=1e-13, limit=400)[0] \
        + 0.5 * c * integrate.quad(lambda t: g(t) * np.exp(-2.0 * (t - 1.0)), 1.0, 80, weight="alg",
                                   wvar=(-2.0 / 3.0, 0.0), epsabs=1e-16, epsrel=1e-13, limit=400)[0]
    lo, hi = math.log(1e-12), math.log(80.0)
    u, w = product_nodes(cdf, lo, hi, [1.0], 1.0)
    with_break = abs(w @ g(np.exp(u)) - exact)
    u, w = product_nodes(cdf, lo, hi, [], 1.0)
    without = abs(w @ g(np.exp(u)) - exact)
    assert with_break <= 1e-12
    assert without > 100 * with_break  # the break is what buys the accuracy: this test can tell


def test_a_law_too_narrow_for_its_panel_is_split_until_its_weights_are_positive():
    law = stats.lognorm(0.01)  # log y ~ N(0, 0.01^2): a spike inside one panel of width 1
    u, w = product_nodes(law.cdf, -0.5, 0.5, [], 1.0)
    assert np.all(w >= -1e-15)
    assert u.size > 16  # it was split
    # still exact for smooth integrands
    exact = math.exp(0.5 * 0.01 ** 2 * 4)  # E[y^2]
    assert abs(w @ np.exp(2 * u) - exact) <= 1e-12


# -- narrow layers -------------------------------------------------------------------------------

def _mc(phi, layers, y0, n, seed):
    rng = np.random.default_rng(seed)
    out = np.empty(n)
    chunk = 100_000
    for start in range(0, n, chunk):
        y = np.full(chunk, float(y0))
        for width, sigma_w2, sigma_b2 in layers:
            h = np.sqrt(sigma_w2 * y + sigma_b2)[:, None] * rng.standard_normal((chunk, width))
            y = np.sum(phi(h) ** 2, axis=1)
        out[start:start + chunk] = y
    return out


@pytest.mark.parametrize("name, gain, sigma_b2", [("erf", 1.5, 0.0), ("erf", 1.5, 0.05), ("tanh", 1.5, 0.05)])
def test_a_second_narrow_saturating_layer_meets_tol_and_matches_monte_carlo(name, gain, sigma_b2):
    # width 5 and s = 1.5: erf's first layer has density singularities at z = 1, ..., 5 (saturation)
    layer = Layer(5, gain / 5, sigma_b2, name)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SigdistWarning)
        law = squared_norm_law(Network([layer, layer]), 5.0)
    assert law.error_estimate <= 1e-8
    sample = _mc(layer.activation.phi, [(5, layer.sigma_w2, sigma_b2)] * 2, 5.0, 1_000_000, seed=1405)
    x = law.ppf([0.01, 0.1, 0.5, 0.9, 0.99])
    p = law.cdf(x)
    z = (np.array([np.mean(sample <= v) for v in x]) - p) / np.sqrt(p * (1 - p) / sample.size)
    assert np.all(np.abs(z) < Z_MAX), z


def test_the_second_layer_converges_as_its_panels_narrow(monkeypatch):
    network = Network([Layer(5, 0.3, 0.0, "erf")] * 2)
    law = squared_norm_law(network, 5.0)
    x = law.ppf(np.linspace(0.001, 0.999, 99))
    import sigdist._product_rule as rule
    monkeypatch.setattr(rule, "_PANEL_SPACINGS", 2.0)
    finer = squared_norm_law(network, 5.0)
    # the rule's own error is below the series' (each group's truncation, ~1e-9, differs between node sets)
    change = np.max(np.abs(law.cdf(x) - finer.cdf(x)))
    assert change <= law.error_estimate + finer.error_estimate <= 2e-8


def test_gelu_at_width_5_and_s_2_meets_the_default_tol():
    # one unit's density ~ x^(1/(2s) - 1) at 0: 2^20 coefficients, the estimate from the last octave
    with warnings.catch_warnings():
        warnings.simplefilter("error", SigdistWarning)
        law = squared_norm_law(Layer(5, 0.4, 0.0, "gelu"), 5.0)
    assert law.error_estimate <= 1e-8
    phi = Layer(5, 0.4, 0.0, "gelu").activation.phi
    sample = _mc(phi, [(5, 0.4, 0.0)], 5.0, 1_000_000, seed=1406)
    x = law.ppf([0.001, 0.01, 0.1, 0.5, 0.9])
    p = law.cdf(x)
    z = (np.array([np.mean(sample <= v) for v in x]) - p) / np.sqrt(p * (1 - p) / sample.size)
    assert np.all(np.abs(z) < Z_MAX), z


@pytest.mark.parametrize("name, points", [("erf", [0, 1, 2, 3]), ("tanh", [0, 1, 2, 3]),
                                          ("gelu", [0, 0.028890211, 0.057780423, 0.086670634]),
                                          ("softplus", [0])])
def test_a_narrow_law_knows_where_its_density_is_singular(name, points):
    # sums of at most N critical values of phi^2 (gelu: its squared minimum; erf, tanh: 0 and saturation)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SigdistWarning)  # width 3 need not meet tol
        law = squared_norm_law(Layer(3, 0.5, 0.0, name), 3.0)
    singular = law._series.singular
    assert np.allclose(singular[singular <= max(points) + 1e-9], points, atol=1e-9)
