"""Infinite-width Jacobian spectra with orthogonal weights (S_{WW^T} = 1/sigma^2): relu at any depth, tanh at q*.

Exact checks against closed forms and independent routes (polynomial roots, change of variables) at rounding
level; finite-width Monte Carlo of real networks (torch) by z-scores at fixed seeds.
"""

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

from sigdist import Layer, Network
from sigdist import SigdistWarning
from sigdist.free_probability import free_jacobian_law, free_moments


def _relu_orthogonal_edge(depth, sigma2=2.0):
    # the minimum of x(psi) = sigma2^L (psi + 1/2)^L / ((psi + 1)^(L-1) psi) over psi > 0 is at psi = 1/(L - 2)
    return (sigma2 / 2.0) ** depth * depth ** depth / (depth - 1) ** (depth - 1)


@pytest.mark.parametrize("depth", [3, 4, 10, 50])
def test_relu_orthogonal_law_is_normalised_with_the_s_transform_moments_and_closed_form_edge(depth):
    law = free_jacobian_law(depth, "relu", "orthogonal")
    m1, m2 = free_moments(depth, "relu", "orthogonal")
    assert (m1, m2) == pytest.approx((1.0, 1.0 + depth), rel=1e-14)
    assert law.atom == 0.5
    assert law.mass() == pytest.approx(1.0, abs=1e-10)
    assert law.moment(1) == pytest.approx(m1, rel=1e-10)
    assert law.moment(2) == pytest.approx(m2, rel=1e-10)
    assert law.upper_edge == pytest.approx(_relu_orthogonal_edge(depth), rel=1e-12)


def test_relu_orthogonal_depth_two_is_half_an_arcsine_law():
    law = free_jacobian_law(2, "relu", "orthogonal", sigma2=1.5)
    top = 1.5 ** 2
    assert law.support() == (0.0, top)
    x = np.array([0.01, 0.7, 2.2])
    np.testing.assert_allclose(law.pdf(x), 1.0 / (2 * math.pi * np.sqrt(x * (top - x))), rtol=1e-14)
    # the S-transform's moments: m_1 = (sigma2/2)^2, m_2 = m_1^2 (1 + L)
    assert law.moment(0) == 1.0
    assert law.moment(1) == pytest.approx((1.5 / 2) ** 2, rel=1e-14)
    assert law.moment(2) == pytest.approx((1.5 / 2) ** 4 * 3, rel=1e-14)


@pytest.mark.parametrize("depth", [2, 3])
def test_relu_orthogonal_density_equals_the_polynomial_root_route(depth):
    # independent route: psi(1/x) is the root in the upper half plane of x psi (psi+1)^(L-1) = sigma2^L (psi+1/2)^L
    from numpy.polynomial import polynomial as P

    law = free_jacobian_law(depth, "relu", "orthogonal")
    for x in (0.05, 0.9, 2.5, 0.99 * law.support()[1]):
        poly = P.polysub(P.polymul([0.0, x], P.polypow([1.0, 1.0], depth - 1)), 2.0 ** depth * P.polypow([0.5, 1.0], depth))
        roots = P.polyroots(poly)
        im = roots.imag.max()
        assert law.pdf(x)[0] == pytest.approx(im / (math.pi * x), rel=1e-9)


@pytest.mark.parametrize("q, depth", [(0.5, 2), (0.5, 10), (2.0, 3)])
def test_critical_tanh_orthogonal_law_is_normalised_with_the_s_transform_moments(q, depth):
    law = free_jacobian_law(depth, "tanh", "orthogonal", preactivation_variance=q)
    m1, m2 = law.exact_moments()
    mu1, mu2 = law.d_moments
    assert (m1, m2) == pytest.approx((1.0, 1.0 + depth * (mu2 / mu1 ** 2 - 1.0)), rel=1e-12)
    assert (m1, m2) == pytest.approx(free_moments(depth, "tanh", "orthogonal", preactivation_variance=q), rel=1e-13)
    assert law.mass() == pytest.approx(1.0, abs=1e-10)
    assert law.moment(1) == pytest.approx(m1, rel=1e-10)
    assert law.moment(2) == pytest.approx(m2, rel=1e-10)
    # orthogonal weights narrow the spectrum: its upper edge lies below the Gaussian-weight law's
    assert law.upper_edge < free_jacobian_law(depth, "tanh", preactivation_variance=q).upper_edge


def test_tanh_orthogonal_depth_one_is_the_law_of_sigma2_phi_prime_squared():
    q = 0.5
    law = free_jacobian_law(1, "tanh", "orthogonal", preactivation_variance=q)
    s2 = law.sigma2
    # independent route: P(sigma2 sech^4(sqrt(q) z) <= x) = 2 Phi(-arccosh((s2/x)^(1/4)) / sqrt(q)), differentiated
    x = np.array([0.05, 0.5, 1.0, 1.6])
    a = np.arccosh((s2 / x) ** 0.25)
    da = -0.25 * (s2 / x) ** 0.25 / x / np.sqrt((s2 / x) ** 0.5 - 1.0)
    np.testing.assert_allclose(law.pdf(x), -2 * stats.norm.pdf(a / math.sqrt(q)) * da / math.sqrt(q), rtol=1e-10)
    assert law.upper_edge == pytest.approx(s2, rel=1e-15)
    assert law.moment(2) == pytest.approx(law.exact_moments()[1], rel=1e-12)


# -- finite width: real networks converge to the infinite-width moments like 1/N --------------------------------

def _gaps(make, moment, infinite, widths, counts, **kwargs):
    """``N (m(N) - m_inf)`` and its standard error for each width (jacobian_spectrum of real networks)."""
    from sigdist.jacobian import jacobian_spectrum

    out = []
    for n, count in zip(widths, counts):
        net, y0 = make(n)
        spec = jacobian_spectrum(net, count, y0=y0, seed=n, device="cpu", **kwargs)
        m, se = getattr(spec, moment), getattr(spec, f"{moment}_se")
        out.append((n * (m - infinite), n * se))
    return out


def test_relu_orthogonal_monte_carlo_second_moment_converges_to_the_free_law_at_rate_one_over_width():
    pytest.importorskip("torch")
    depth = 3
    m2 = free_jacobian_law(depth, "relu", "orthogonal").moment(2)

    def make(n):
        return Network([Layer(n, 2.0 / n, 0.0, "relu", weight_law="orthogonal")] * depth, input_width=n), 1.0
    (a, sa), (b, sb) = _gaps(make, "second_moment", m2, [8, 32], [8000, 4000])
    assert a > 5 * sa  # a finite-width correction is there ...
    assert abs(a - b) < 4 * math.hypot(sa, sb)  # ... and N (m_2(N) - m_2) does not move: rate 1/N
    assert abs(2 * a - b) > 4 * math.hypot(2 * sa, sb)  # the rate 1/sqrt(N) would double it from N = 8 to 32


def test_critical_tanh_orthogonal_monte_carlo_first_moment_converges_at_rate_one_over_width():
    pytest.importorskip("torch")
    from sigdist.jacobian_cli import _critical_tanh

    depth, q = 3, 0.5
    m1 = free_jacobian_law(depth, "tanh", "orthogonal", preactivation_variance=q).exact_moments()[0]

    def make(n):
        net, y0 = _critical_tanh(n, depth, q)
        return Network([dataclasses.replace(layer, weight_law="orthogonal") for layer in net], n), y0
    (a, sa), (b, sb) = _gaps(make, "first_moment", m1, [8, 32], [8000, 8000])
    assert a < -5 * sa
    assert abs(a - b) < 4 * math.hypot(sa, sb)


def test_orthogonal_weights_refuse_activations_the_contour_does_not_cover_but_free_moments_has_them():
    with pytest.raises(NotImplementedError, match="erf"):
        free_jacobian_law(3, "erf", "orthogonal", preactivation_variance=0.5)
    m1, m2 = free_moments(3, "erf", "orthogonal", preactivation_variance=0.5)
    assert m1 == pytest.approx(1.0, rel=1e-14) and m2 > 1.0


def test_tiny_preactivation_variance_is_a_named_error():
    # phi'^2 nearly 1: the law is within rounding of a point mass the continuation cannot follow
    with pytest.raises(ValueError, match="preactivation_variance"):
        free_jacobian_law(3, "tanh", "orthogonal", preactivation_variance=1e-6)


def test_a_density_that_loses_mass_says_so():
    # large q*: mass piles up next to 0 where the quadrature does not resolve it (1 - 1.3e-7 at q* = 10)
    with pytest.warns(SigdistWarning, match="integrates to 1 - "):
        free_jacobian_law(3, "tanh", "orthogonal", preactivation_variance=10.0)
