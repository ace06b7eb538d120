"""The numbers the phase diagrams of validation/phase_diagrams.py rest on (issue 16, point 4)."""

import importlib.util
import math
import pathlib

import numpy as np
import pytest
from scipy import integrate

import sigdist
from sigdist import Layer

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def phase():
    spec = importlib.util.spec_from_file_location("phase_diagrams", ROOT / "validation" / "phase_diagrams.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- (a) relu with bias ----------------------------------------------------------------------------------

@pytest.mark.parametrize("width", [5, 20, 100])
def test_tail_index_is_one_at_he_whatever_the_bias(width):
    ds = sigdist.sweep("tail_index", sigma_w2=np.array([2.0 / width]), sigma_b2=[0.0, 1e-8, 1e-3, 0.1, 10.0],
                       width=width, client="serial", seed=0, progress=False)
    alpha = ds["tail_index"].values[0]
    np.testing.assert_allclose(alpha, 1.0, rtol=1e-12)
    assert np.all(alpha == alpha[0])  # the bias only sets the stationary law's scale


def test_tail_index_decreases_in_the_weight_variance_and_crosses_two_below_he():
    width = 20
    s = np.linspace(0.5, 4.0, 15)
    alpha = sigdist.sweep("tail_index", sigma_w2=s / width, width=width, sigma_b2=0.1, client="serial", seed=0,
                          progress=False)["tail_index"].values
    assert np.all(np.diff(alpha) < 0)
    assert alpha[s == 1.75][0] > 2 > alpha[s == 2.0][0] == pytest.approx(1.0, rel=1e-12)
    assert alpha[-1] < 1e-3  # supercritical: only the 2^-N regeneration at 0 keeps a stationary law


@pytest.mark.parametrize("width", [5, 20, 100])
def test_infinite_variance_begins_where_the_second_moment_map_is_one(width):
    # alpha = 2 <=> E[(sigma_w2 S)^2] = s^2 (N + 5) / (4 N) = 1: the contour alpha = 2 is s = 2 sqrt(N / (N + 5))
    s = 2 * math.sqrt(width / (width + 5))
    ds = sigdist.sweep("tail_index", sigma_w2=np.array([s / width, 0.99 * s / width]), width=width, client="serial",
                       seed=0, progress=False)
    assert ds["tail_index"].values[0] == pytest.approx(2.0, rel=1e-9)
    assert ds["tail_index"].values[1] > 2.0


@pytest.mark.parametrize("width", [5, 20])
def test_atom_is_two_to_the_minus_width_with_bias_and_accumulates_without(width):
    depth = 3
    ds = sigdist.sweep("atom", sigma_b2=[0.0, 0.01, 1.0], sigma_w2=2.0 / width, width=width, depth=depth,
                       client="serial", seed=0, progress=False)
    atom = ds["atom"].values
    assert atom[1:] == pytest.approx(2.0**-width, rel=1e-9)
    assert atom[0] == pytest.approx(1 - (1 - 2.0**-width) ** depth, rel=1e-9)  # zero is absorbing without bias


# -- (b) tanh order/chaos ----------------------------------------------------------------------------------

def test_q_star_is_the_q_map_fixed_point_and_refuses_no_bias(phase):
    for s, b in [(1.5, 0.05), (3.0, 0.2)]:
        q = phase.q_star(s, b)
        quad = integrate.quad(lambda g: math.tanh(math.sqrt(q) * g) ** 2 * math.exp(-g * g / 2), -40, 40)[0]
        assert s * quad / math.sqrt(2 * math.pi) + b == pytest.approx(q, rel=1e-10)
    with pytest.raises(ValueError, match="sigma_b2"):
        phase.q_star(0.8, 0.0)


@pytest.mark.parametrize("s, b", [(1.0, 0.05), (2.0, 0.1), (3.5, 0.25)])
def test_the_cosine_maps_infinite_width_slope_at_one_is_pooles_chi_1(phase, s, b):
    q = phase.q_star(s, b)
    quad = integrate.quad(lambda g: math.cosh(math.sqrt(q) * g) ** -4 * math.exp(-g * g / 2), -40, 40)[0]
    chi = s * quad / math.sqrt(2 * math.pi)
    out = phase.cosine_slopes([Layer(10, s / 10, b, "tanh")])
    assert out["chi_1"] == pytest.approx(chi, rel=1e-10)
    assert out["slope_mean_field"] == pytest.approx(chi, abs=1e-5)  # one-sided difference: eps * curvature


def test_the_finite_width_slope_correction_is_k_over_n(phase):
    s, b = 2.0, 0.1
    k = [n * (r["slope_finite"] - r["slope_mean_field"])
         for n in (10, 100) for r in [phase.cosine_slopes([Layer(n, s / n, b, "tanh")])]]
    assert k[0] == pytest.approx(k[1], rel=1e-6) and k[0] > 0.5  # finite width: more chaotic


def test_the_mean_field_line_starts_at_s_one_and_the_width_100_line_lies_order_one_over_n_inside(phase):
    assert 1.0 < phase.mean_field_boundary(1e-8) < 1.01
    mf, fin = phase.mean_field_boundary(0.1), phase.finite_boundary(100, 0.1)
    assert phase.chi_1(mf, 0.1) == pytest.approx(1.0, abs=1e-9)
    assert 1.0 < 100 * (mf - fin) < 5.0


def test_monte_carlo_of_the_exact_sampler_puts_the_width_100_boundary_where_the_first_order_does(phase):
    width, b, delta = 100, 0.1, 1e-3
    s = phase.finite_boundary(width, b)
    y = width * phase.tanh_second_moment(phase.q_star(s, b))
    ds = sigdist.sweep("mean_cosine", rho=np.array([1 - delta]), width=width, sigma_w2=s / width, sigma_b2=b,
                       activation="tanh", y0=y, n_networks=100_000, client="serial", seed=1, progress=False)
    slope, se = (1 - float(ds["cosine_mean"][0])) / delta, float(ds["cosine_mean_se"][0]) / delta
    first = (1 - sigdist.mean_cosine(Layer(width, s / width, b, "tanh"), y, y, (1 - delta) * y).first_order) / delta
    assert se < 2e-3
    assert abs(slope - first) < 4 * se + 2 / width**2


# -- (c) FM2 --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("width", [5, 50])
def test_fm2_ratio_is_one_plus_five_over_width_to_the_depth_minus_one(width):
    depths = np.array([1, 7, 40])
    ds = sigdist.sweep("length_moments", depth=depths, width=width, sigma_w2=2.0 / width, client="serial", seed=0,
                       progress=False)
    ratio = ds["length_variance"].values / ds["length_mean"].values ** 2
    np.testing.assert_allclose(ratio, np.expm1(depths * math.log1p(5 / width)), rtol=1e-10)
