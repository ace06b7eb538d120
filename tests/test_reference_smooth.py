"""Internal consistency of tests/data/reference_smooth.json (written by validation/reference_smooth.py).

The file holds independent reference CDFs of |x^(L)|^2 for smooth activations and leaky relu
(issue 14).  These tests check the file itself -- shapes, probabilities, monotonicity, that the
stated accuracy is present and meets the 1e-11 the references promise, and the moment inequality;
comparing sigdist with it is a separate test.
"""

import json
import math
import pathlib

import pytest

DATA = pathlib.Path(__file__).resolve().parent / "data" / "reference_smooth.json"
CASES = json.loads(DATA.read_text())["cases"]
ACCURACY = 1e-11
ACTIVATIONS = {"tanh", "erf", "gelu", "silu", "leaky_relu"}


def test_file_covers_every_activation_and_depth_above_one():
    acts = {c["activation"] for c in CASES.values()}
    assert acts == ACTIVATIONS
    assert any(len(c["layers"]) >= 2 for c in CASES.values())


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_has_every_field_with_the_right_shape(name):
    c = CASES[name]
    for key in ("activation", "layers", "y0", "x", "cdf", "sf", "mean", "second_moment", "accuracy"):
        assert key in c, key
    assert c["activation"] in ACTIVATIONS
    assert ("negative_slope" in c) == (c["activation"] == "leaky_relu")
    if "negative_slope" in c:
        assert 0.0 <= c["negative_slope"] < 1.0
    for width, sigma_w2, sigma_b2 in c["layers"]:
        assert isinstance(width, int) and width >= 1
        assert sigma_w2 > 0 and sigma_b2 >= 0
    assert c["y0"] > 0
    assert len(c["x"]) == len(c["cdf"]) == len(c["sf"]) >= 10


@pytest.mark.parametrize("name", sorted(CASES))
def test_cdf_and_sf_are_complementary_probabilities(name):
    c = CASES[name]
    for f, s in zip(c["cdf"], c["sf"]):
        assert -ACCURACY <= f <= 1 + ACCURACY and -ACCURACY <= s <= 1 + ACCURACY
        assert abs(f + s - 1.0) <= 1e-13


@pytest.mark.parametrize("name", sorted(CASES))
def test_points_increase_and_cdf_is_monotone_across_the_law(name):
    c = CASES[name]
    x, f = c["x"], c["cdf"]
    assert all(b > a for a, b in zip(x, x[1:]))
    assert all(b >= a - c["accuracy"] for a, b in zip(f, f[1:]))
    # the points span the law, from below its 1e-4 quantile to beyond its 1 - 1e-4 quantile.  The
    # candidate points come from a Monte Carlo sample of 1e5, whose extremes sit near the 1e-5 quantiles;
    # below the sample's minimum a law that piles up at 0 like x^p (gelu, width 5: F = 1.1e-5 at the
    # lowest candidate) is not reached further by a fixed extrapolation.
    assert f[0] <= 1e-4 and c["sf"][-1] <= 1e-4


@pytest.mark.parametrize("name", sorted(CASES))
def test_stated_accuracy_is_present_and_meets_the_promise(name):
    c = CASES[name]
    assert math.isfinite(c["accuracy"]) and 0 <= c["accuracy"] <= ACCURACY


@pytest.mark.parametrize("name", sorted(CASES))
def test_moments_are_positive_and_obey_cauchy_schwarz(name):
    c = CASES[name]
    assert c["mean"] > 0 and c["second_moment"] >= c["mean"] ** 2
    assert c["x"][0] < c["mean"] < c["x"][-1]


HEADER = json.loads(DATA.read_text())["header"]


def test_header_lists_no_stored_case_as_not_computed_or_failed():
    assert not set(HEADER.get("not_computed", [])) & set(CASES)
    assert not set(HEADER.get("failed_self_check", {})) & set(CASES)


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if "route" in c))
def test_narrow_route_cases_carry_their_table_check_within_the_promise(name):
    # validation/reference_narrow.py: the tables' interpolation error, measured between their nodes
    # (of the refined run, the one in 'accuracy': the stored values are the first run's, within
    # max_abs_diff of it; the cases stored before 'interp_check_first_run' hold the larger of the two)
    sc = CASES[name]["self_check"]
    assert 0 <= sc["interp_check"] <= ACCURACY
    assert sc["max_abs_diff"] <= CASES[name]["accuracy"]
