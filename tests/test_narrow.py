"""The real-space route for narrow layers (sigdist.narrow) and one unit's exact law (sigdist.one_unit)."""

import math
import warnings

import numpy as np
import pytest
from scipy import optimize, special

from sigdist import Layer, SigdistWarning, TransitionOperator, fourier, squared_norm_law
from sigdist.fourier import FourierKernel, group_series
from sigdist.grid import LogGrid
from sigdist.narrow import NarrowGroup, NarrowLaw
from sigdist.series import KernelSeries


def _gelu(h):
    return h * special.ndtr(h)


def _gelu_unit_cdf(x, s):
    # P(gelu(h)^2 <= x), h ~ N(0, s), by Brent's roots of gelu(h) = +-sqrt(x) (gelu turns at h* = -0.7518)
    turn = optimize.minimize_scalar(_gelu, bounds=(-2.0, 0.0), method="bounded", options={"xatol": 1e-14}).x
    out = []
    for v in x:
        r = math.sqrt(v)
        right = optimize.brentq(lambda h: _gelu(h) - r, 0.0, 2.0 * r + 1.0, xtol=1e-300, rtol=1e-15)
        total = special.ndtr(right / math.sqrt(s))
        if v < _gelu(turn) ** 2:
            far = optimize.brentq(lambda h: _gelu(h) + r, -60.0, turn, xtol=1e-300, rtol=1e-15)
            near = optimize.brentq(lambda h: _gelu(h) + r, turn, 0.0, xtol=1e-300, rtol=1e-15)
            total += special.ndtr(far / math.sqrt(s)) - special.ndtr(near / math.sqrt(s))
        out.append(total)
    return np.array(out)


def test_one_gelu_unit_keeps_the_mass_of_its_flat_left_tail():
    # at s = 5, gelu^2 < 3e-11 for g < -2.1: flat next to its range (700), that stretch was taken for a
    # constant piece and its mass (0.017) dropped from the width-1 law
    x = np.array([1e-20, 1e-12, 1e-6, 0.01, 0.02, 0.1, 1.0, 10.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", SigdistWarning)
        law = squared_norm_law(Layer(1, 5.0, 0.0, "gelu"), 1.0)
    assert np.max(np.abs(law.cdf(x) - _gelu_unit_cdf(x, 5.0))) <= 1e-12


def test_gelus_underflowing_left_tail_is_not_an_atom():
    # at s = 37 the flat piece is h < -4.6 (0.23 of the mass); gelu underflows to 0 only past h = -38.5
    # (1e-10 of it), and the piece was taken for an atom at 0 because gelu vanished at its middle
    x = np.array([1e-300, 1e-30, 1e-12, 0.01, 1.0, 100.0])
    law = squared_norm_law(Layer(1, 37.0, 0.0, "gelu"), 1.0)
    assert law.atom <= 1e-9
    assert np.max(np.abs(law.cdf(x) - _gelu_unit_cdf(x, 37.0))) <= 1e-9


def test_one_saturated_tanh_unit_meets_its_closed_form():
    # at s = 50, tanh^2 is within 3e-14 of 1 for |g| > 2.3: bisection for a level at the end of such a flat
    # piece stopped anywhere on it, and the pieces flat to the tolerance were dropped: 4.7e-6 too much mass
    # below every level, 2.2e-2 missing at x = 1
    s = 50.0
    x = np.array([1e-20, 1e-6, 0.1, 0.9, 0.999999, 1.0])
    law = squared_norm_law(Layer(1, s, 0.0, "tanh"), 1.0)
    with np.errstate(divide="ignore"):  # atanh(1) = inf: the CDF is 1 there
        exact = 2.0 * special.ndtr(np.arctanh(np.sqrt(x)) / math.sqrt(s)) - 1.0
    assert np.max(np.abs(law.cdf(x) - exact)) <= 1e-10


def test_gelus_singular_points_are_its_squared_minimum_to_roundoff():
    # the real-space tables grade towards them to 2e-15: rounded to 1e-9 they missed by 3.7e-10
    kernel = FourierKernel(Layer(5, 1.0, 0.0, "gelu"))
    turn = optimize.minimize_scalar(_gelu, bounds=(-2.0, 0.0), method="bounded", options={"xatol": 1e-14}).x
    points = kernel.singular_points(1.0)
    assert np.allclose(points, _gelu(turn) ** 2 * np.arange(6), rtol=1e-13, atol=0.0)


def test_real_space_and_fourier_routes_agree_where_both_converge():
    # gelu at width 5, s = 0.5: the series converge (estimate below 1e-9); two independent routes
    kernel = FourierKernel(Layer(5, 1.0, 0.0, "gelu"))
    gs = group_series(kernel, np.array([0.5]), 1e-10)
    end = gs.period / 1.05
    series = KernelSeries(gs.coef[0], gs.period, gs.atoms[0], gs.means[0], end)
    law = NarrowLaw(kernel.activation, 5, 0.5, end, kernel.activation.critical_values(end))
    x = np.concatenate([np.geomspace(1e-10, 20.0, 60), 0.02889021137217646 * np.array([1, 2, 3, 4, 5]) * (1 + 1e-9)])
    diff = np.max(np.abs(law.cdf_continuous(x) - series.cdf_continuous(x)))
    assert law.error <= 1e-9 and gs.errors[0] <= 1e-9
    assert diff <= law.error + gs.errors[0]


def test_a_group_read_at_chebyshev_nodes_in_s_matches_its_members_laws():
    # sixteen variances in [2, 4]: ten laws at Chebyshev nodes in log s stand for them, within the error
    # the group states (the laws' own and the interpolation's, measured at one member)
    kernel = FourierKernel(Layer(3, 1.0, 0.0, "gelu"))
    s = np.geomspace(2.0, 4.0, 16)
    w = np.full(16, 1.0 / 16)
    end = kernel.window(4.0, 1e-10)[1] / 1.05
    group = NarrowGroup(kernel, s, w, end)
    critical = kernel.activation.critical_values(end)
    x = np.geomspace(1e-12, end, 80)
    each = np.stack([NarrowLaw(kernel.activation, 3, si, end, critical).cdf_continuous(x) for si in s], axis=1)
    assert group.error <= 1e-8
    assert np.max(np.abs(group.cdf_continuous(x) - each @ w)) <= group.error
    # and member by member, as the operator's columns read them
    assert group.member_error <= 1e-8
    assert np.max(np.abs(group.members("cdf_continuous", x) - each)) <= group.member_error


def _columns_at_s20(grid):
    op = TransitionOperator(Layer(5, 4.0, 0.0, "gelu"))
    return op._fourier_columns(grid, np.array([math.log(5.0)]))[:, 0]


def test_the_operators_columns_take_real_space_where_the_series_cannot_converge():
    # gelu at width 5 and s = 20: the series' coefficients fall like k^(-1/8); the matrix's column was 3e-3
    # off the law's density with no warning.  It now reads the real-space law, as the law itself does.
    grid = LogGrid(math.log(1e-6), 0.05, 400)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SigdistWarning)
        column = _columns_at_s20(grid)
        law = squared_norm_law(Layer(5, 4.0, 0.0, "gelu"), 5.0)
    z = np.exp(grid.points)
    assert np.max(np.abs(column - z * law.pdf(z))) <= 1e-8 * np.max(column)


def test_the_operators_columns_warn_where_neither_route_converges(monkeypatch):
    # the same column with the real-space route withheld: the series' own error estimate is reported
    monkeypatch.setattr(fourier, "narrow_applies", lambda *args: False)
    with pytest.warns(SigdistWarning, match="CDF error of"):
        _columns_at_s20(LogGrid(math.log(1e-6), 0.05, 50))


def test_a_saturated_tanh_layer_holds_all_its_mass_up_to_n():
    # tanh(h)^2 < 1, so P(z <= N) = 1 exactly. At s = 4000, tanh(sqrt(s) g) is 1.0 in float64 on 3/4 of the
    # Gaussian mass, and the table's jump at z = 5 left 0.29 of F(5) out (cdf(5.0) read 0.711): the real
    # route's z now stops at N sup psi
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SigdistWarning)  # its estimate is 3.5e-7 > tol: the pile-up at 5
        law = squared_norm_law(Layer(5, 0.4, 0.0, "tanh"), 1e4)
    assert law.cdf(5.0) == 1.0 and law.sf(5.0) == 0.0 and law.cdf(6.0) == 1.0
    # below the pile-up, within Monte Carlo of the exact recursion (4.5 standard errors)
    rng = np.random.default_rng(7)
    z = np.sum(np.tanh(np.sqrt(4000.0) * rng.standard_normal((200_000, 5))) ** 2, axis=1)
    x = np.array([4.0, 4.9, 4.99999])
    p = np.array([np.mean(z <= v) for v in x])
    assert np.all(np.abs(law.cdf(x) - p) <= 4.5 * np.sqrt(p * (1 - p) / z.size))
    # at s = 40: P(z > 5 - 1e-12) needs 1 - tanh(h)^2 < 1e-12, |h| > 14.5, on every unit: at most
    # (2 Phi(-2.29))^5 = 4.9e-9.
    # The grid's last cell, across the pile-up at 5, read 3.1e-3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SigdistWarning)
        law = squared_norm_law(Layer(5, 0.4, 0.0, "tanh"), 100.0)
    assert law.sf(5.0 - 1e-12) <= 1e-8 + law.error_estimate
