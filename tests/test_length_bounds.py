"""sigdist.length_bounds: Theorem 5 and Corollaries 1 and 2 of Hanin & Rolnick (2018) as printed, beside the exact
values (docs/errata.md). Exact comparisons: float64 rounding (rtol 1e-12 to 1e-13); the SMC check is a z-score
against the SMC standard error at a fixed seed (4 s.e.)."""

import math

import numpy as np
import pytest

from sigdist import Layer, Network
from sigdist.initializers import initializer_network
from sigdist.length_bounds import Corollary1Mean, Theorem5Bounds, corollary1_mean, corollary2_bounds, theorem5_bounds


def test_theorem5_lower_bound_holds_and_upper_bounds_fail_for_wide_deep_nets():
    for n in (5, 20, 100, 1000):
        for d in (1, 10, 100, 1000):
            t = theorem5_bounds([n] * (d + 1))
            assert t.lower_holds.all()
            assert (t.C1, t.C2) == (2.0, 3.0)
    t = theorem5_bounds([100] * 201)
    assert not t.upper_gaussian_holds[-1]  # 4 exp(4 * 2) < 1.05^200
    assert t.log_exact[-1] == pytest.approx(200 * math.log(1.05), rel=1e-13)
    t = theorem5_bounds([100] * 51)
    assert t.upper_gaussian_holds[-1] and not t.upper_holds[-1]  # 2 exp(3 * 0.5) < 1.05^50
    assert theorem5_bounds([5] * 101).upper_gaussian_holds.all()  # narrow: log(2) < 4/5


def test_theorem5_gaussian_constants_need_unit_input_mean():
    t = theorem5_bounds([10] * 4, 20.0)  # M_0 = 2: C_1 = C_2 = 4 not allowed
    assert t.upper_gaussian is None and t.upper_gaussian_holds is None
    assert t.C1 == pytest.approx(1 + 2.0 ** 2, rel=1e-15) and t.C2 == pytest.approx(2 + 2.0, rel=1e-15)
    assert "upper_gaussian" not in t.to_xarray()  # a bound that does not apply is not in the data set


def test_smc_confirms_the_violated_upper_bound():
    # E[M_d^2] at depth 100, width 20: naive Monte Carlo sees only the typical runs; SMC weights the rare ones
    from sigdist.montecarlo import smc_moment

    net = Network.he([20] * 101)
    t = theorem5_bounds(net)
    smc = smc_moment(net, 20.0, power=2.0, n_networks=3000, n_replicates=8, seed=1)
    est, se = smc.estimate[-1] / 400, smc.estimate_se[-1] / 400
    assert abs(est - t.exact[-1]) < 4 * se
    assert est - 4 * se > t.upper_gaussian[-1]  # the printed bound with C_1 = C_2 = 4 is below the truth


def test_theorem5_refuses_networks_outside_definition_1():
    with pytest.raises(ValueError, match="2/fan-in"):
        theorem5_bounds(initializer_network("he_normal_truncated", [10] * 4))


def test_corollary1_printed_bias_term_lacks_one_half():
    net = Network.constant(10, 4, 0.2, 0.1)
    c = corollary1_mean(net)
    expected = np.array([1.0 + 0.1 / 2 * sum(1.0 ** k for k in range(j)) for j in range(1, 5)])
    np.testing.assert_allclose(c.exact, expected, rtol=1e-13)
    np.testing.assert_allclose(c.printed - 1.0, 2 * (c.exact - 1.0), rtol=1e-12)
    c = corollary1_mean(Network.constant(10, 4, 0.3))
    np.testing.assert_allclose(c.printed, c.exact, rtol=1e-13)


def test_corollary2_lower_bound_has_no_width_independent_constant():
    c_max = [corollary2_bounds([n] * 3).c_max for n in (10, 100, 1000, 10_000)]
    assert all(a > b for a, b in zip(c_max, c_max[1:]))
    assert c_max[-1] < 1e-2
    r = corollary2_bounds([10_000] * 3, c=0.05, C=5.0)
    assert r.lower > r.exact and r.upper > r.exact


def test_corollary2_extreme_constant_reaches_the_exact_value():
    r = corollary2_bounds([10] * 6)
    at_root = corollary2_bounds([10] * 6, c=r.c_max, C=r.C_min)
    assert at_root.lower == pytest.approx(r.exact, rel=1e-10)  # brentq's rtol 1e-12 on c, times d log f / d log c


def test_bounds_are_labelled_results():
    t = theorem5_bounds([10] * 6)
    assert isinstance(t, Theorem5Bounds) and len(repr(t).splitlines()) <= 15
    ds = t.to_xarray()
    assert ds["exact"].dims == ("layer",) and list(ds["layer"].values) == [1, 2, 3, 4, 5]
    c = corollary1_mean([10] * 6)
    assert isinstance(c, Corollary1Mean) and c.to_xarray()["printed"].dims == ("layer",)
    assert float(corollary2_bounds([10] * 6).to_xarray()["c_max"]) > 0


@pytest.mark.parametrize("call, match", [
    (lambda: corollary2_bounds([10, 10, 10], c=-1.0), "c must be"),
    (lambda: corollary2_bounds([10, 10, 10], C=math.inf), "C must be"),
    (lambda: corollary1_mean(Network([Layer(4, 0.5), Layer(4, 0.3)], input_width=4)), "one kappa"),
    (lambda: theorem5_bounds(Network.he([4, 4]).layers), "input_width"),
])
def test_bad_input_is_refused_with_a_message(call, match):
    with pytest.raises(ValueError, match=match):
        call()
