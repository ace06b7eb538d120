"""Far left tails of zero-bias chi-square chains where the Mellin-Barnes contour is pinned against a pole.

A wide relu layer's k = 1 term (weight N 2^-N) puts a pole at s = -1/2 while the bulk's left tail needs
the contour far to its left: ``sigdist._mellin`` then hands the left tail to the positive log-space
convolution of ``sigdist._log_convolution``. References: ``validation/reference_tails.py``'s route B
(nested quadrature in mpmath at 30 digits, sharing no code with sigdist), values printed by
``nested_2([L(N, 2/N)] * 2, N, t, "cdf_cont")``.
"""

import math
import warnings

import numpy as np
import pytest

import sigdist as sd
from sigdist import Layer, Network
from sigdist._log_convolution import LogConvolutionTails
from sigdist._mellin import ProductTails, _Pinned

# (width, y0, t, P(0 < z_2 <= t)) for He relu, two layers, from y0 = N
PINNED = [
    (50, 50.0, 2.0, 3.152884368490619e-07),
    (50, 50.0, 0.05, 1.967804860804732e-13),
    (50, 50.0, 1e-5, 1.710759772113188915e-16),
    (200, 200.0, 0.3, 1.4044565277340792e-49),
]


@pytest.mark.parametrize("width, y0, t, reference", PINNED)
def test_pinned_left_tails_match_the_nested_quadrature_reference(width, y0, t, reference):
    law = sd.squared_norm_law(Network.he([width] * 3), y0)
    tails = ProductTails([(Network.he([width] * 2)[0], 2)], y0)
    with pytest.raises(_Pinned):  # the case is the one the convolution exists for
        tails._saddle(math.log(t), upper=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = float(law.cdf(t) - law.atom)
    assert value == pytest.approx(reference, rel=1e-11)


CHAINS = [
    ([(Layer(5, 0.4), 3)], 5.0),
    ([(Layer(3, 2 / 3), 2), (Layer(8, 0.25), 2)], 1.0),
    ([(Layer(20, 0.1, activation="leaky_relu", negative_slope=0.2), 3)], 20.0),
    ([(Layer(4, 0.5, activation="linear"), 5)], 4.0),
]


@pytest.mark.parametrize("layers, y0", CHAINS)
def test_convolution_agrees_with_mellin_barnes_where_the_saddle_is_free(layers, y0):
    tails = ProductTails(layers, y0)
    conv = LogConvolutionTails(tails.factors, tails.log_y0)
    t = y0 * np.array([1e-2, 1e-6, 1e-30])
    value, err = conv.cdf(t)
    mb = np.array([tails._tail_one(math.log(ti), upper=False) for ti in t])
    assert np.all(err < 1e-10)
    np.testing.assert_allclose(value, mb, rtol=1e-11)


def test_quantiles_round_trip_in_a_pinned_left_tail():
    law = sd.squared_norm_law(Network.he([200] * 4), 200.0)
    for q in (1e-12, 1e-30):
        z = law.ppf(q)
        assert float(law.cdf(z)) == pytest.approx(q, rel=1e-9)


def test_error_estimate_falls_geometrically_with_the_step():
    tails = ProductTails([(Layer(50, 0.04), 2)], 50.0)
    conv = LogConvolutionTails(tails.factors, tails.log_y0)
    x = np.log(np.array([0.05])) - tails.log_y0
    floor = math.log(2e-13) - 40.0
    exact = math.log(1.967804860804732e-13)
    errors = [abs(float(conv._cdf(x, h, floor)[0]) - exact) for h in (1.0, 0.6, 0.3)]  # 7e-2, 3e-3, 1e-7
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-4 * errors[1] < 1e-5 * errors[0]
