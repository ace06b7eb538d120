"""Far right tails of biased chi-square chains past depth 2 (``sigdist._chain_tails``).

Before, the law of a biased relu network of depth >= 3 read its far right tail from the previous law's
grid: 2e-3 off at 1e-100 (He-like N = 10, depth 3), with a warning. The log-space quadrature is checked
against an independent nested quadrature (``validation/reference_biased_tails.py``: mpmath densities and
incomplete gamma functions, scipy's adaptive quad, no sigdist code), against the exact depth-2 route
(``sigdist.one_step``'s closed-form integral), and by the exact moments its tail integrates to.
"""

import math
import warnings

import numpy as np
import pytest

import sigdist as sd
from sigdist import Layer, Network
from sigdist._chain_tails import ChainRightTails
from sigdist.moments import chain_right_tails

# P(z_3 > t), relu N = 10, sigma_w2 = 0.2, sigma_b2 = 0.1, y0 = 1 (validation/reference_biased_tails.py)
REFERENCE = [(3013.826552005844, 1.0000000006478184e-30), (66979.20978412716, 9.979156763715929e-101)]


@pytest.mark.parametrize("t, reference", REFERENCE)
def test_depth_three_far_right_tail_matches_the_nested_quadrature(t, reference):
    law = sd.squared_norm_law(Network.constant(10, 3, 0.2, 0.1), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "read from the previous law's grid" warning any more
        assert float(law.sf(t)) == pytest.approx(reference, rel=1e-11)


@pytest.mark.parametrize("network", [Network.constant(10, 2, 0.2, 0.1), Network.constant(50, 2, 2 / 50, 0.05)])
def test_depth_two_agrees_with_the_closed_form_integral(network):
    law = sd.squared_norm_law(network, 1.0)
    chain = ChainRightTails(list(network), 1.0)
    t = law.isf(np.array([1e-10, 1e-50, 1e-200]))
    value, err = chain.sf(t)
    assert np.all(err < 1e-12)
    np.testing.assert_allclose(value, law.sf(t), rtol=1e-11)


@pytest.mark.parametrize("network, y0", [
    (Network.constant(50, 4, 2 / 50, 0.05), 1.0),
    # a bias-free layer inside: its atom takes the previous one's too (z_{l-1} = 0 gives z_l = 0)
    (Network([Layer(2, 1.0, 0.5), Layer(2, 1.0, 0.0), Layer(2, 1e-4, 1.0)]), 1.0),
    # from y0 = 0 a bias-free first layer keeps z_1 = 0: the chain starts at the second
    (Network([Layer(4, 1.0, 0.0), Layer(4, 1.0, 0.5), Layer(4, 1.0, 0.5)]), 0.0),
    (Network([Layer(8, 0.3, 0.1, activation="leaky_relu", negative_slope=0.2), Layer(8, 0.25, 0.1),
              Layer(8, 0.25, 0.2, activation="linear")]), 1.0),
])
def test_the_tail_integrates_to_the_exact_moments(network, y0):
    # E z = int_0^inf P(z > t) dt and E z^2 = int 2 t P(z > t) dt, in u = log t (trapezoid, geometric)
    law = sd.squared_norm_law(network, y0)
    chain = chain_right_tails(law.moment_chain)
    u = np.linspace(math.log(1e-10 * law.mean()), math.log(law.isf(1e-250)), 601)
    t = np.exp(u)
    sf, _ = chain.sf(t)
    head = t[0] * (1.0 - law.atom)  # P(z > t) = 1 - atom below t[0], to 1e-10 relative
    m1 = np.trapezoid(sf * t, u) + head
    m2 = np.trapezoid(2.0 * t * t * sf, u) + t[0] * head
    assert m1 == pytest.approx(law.mean(), rel=1e-10)
    assert m2 == pytest.approx(law.moment(2), rel=1e-10)


def test_error_falls_geometrically_with_the_step():
    chain = ChainRightTails(list(Network.constant(10, 3, 0.2, 0.1)), 1.0)
    x = np.log(np.array([REFERENCE[1][0]]))
    exact = math.log(REFERENCE[1][1])
    errors = []
    for h in (1.0, 0.7, 0.5):
        chain._built = {}
        errors.append(abs(float(chain._log_sf(x, h)[0]) - exact))
    assert errors[1] < 1e-3 * errors[0] and errors[2] < 1e-2 * errors[1]  # 1.4e-5, 2.9e-9, 2.3e-12
