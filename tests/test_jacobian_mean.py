"""sigdist.jacobian.jvp_mean: E|J u|^2 at any depth by the two-measure recursion, against exact values and
Monte Carlo (sigdist's exact reduced sampler and real networks differentiated by torch), by z-scores."""

import math

import numpy as np
import pytest

from sigdist import Layer, Network
from sigdist import jacobian as jac

TANH = Network([Layer(4, 0.5, 0.2, "tanh"), Layer(3, 0.7, 0.1, "tanh"), Layer(5, 0.4, 0.3, "tanh")], input_width=4)


def test_relu_with_biases_gives_the_exact_product_for_any_direction():
    net = Network([Layer(4, 0.5, 0.2), Layer(3, 0.7, 0.1, "leaky_relu", negative_slope=0.3)], input_width=4)
    m = jac.jvp_mean(net, 1.3, u_cos=0.6, points=32)
    exact = jac.jvp_moments(net).first_moment
    np.testing.assert_allclose(m.first_moment, exact, rtol=1e-12)  # FFT roundoff


@pytest.mark.parametrize("activation, u_cos", [("tanh", 0.6), ("erf", 0.0), ("gelu", -0.8)])
def test_depth_one_equals_the_exact_quadrature(activation, u_cos):
    net = Network([Layer(4, 0.5, 0.2, activation)], input_width=4)
    m = jac.jvp_mean(net, 1.3, u_cos=u_cos, points=64)
    assert m.first_moment[0] == pytest.approx(jac.jvp_moments(net, 1.3, u_cos=u_cos).first_moment[0], rel=1e-10)


@pytest.mark.parametrize("u_cos", [0.0, 0.6])
def test_deep_tanh_with_biases_matches_the_exact_reduced_sampler(u_cos):
    m = jac.jvp_mean(TANH, 1.3, u_cos=u_cos)
    s = jac.jvp_samples(TANH, 1.3, u_cos=u_cos, n_networks=400_000, seed=5)
    z = (m.first_moment - s.u2_mean) / s.u2_mean_se
    assert np.all(np.abs(z[1:]) < 4.0), z
    assert np.all(m.error_estimate < 1e-3 * s.u2_mean_se)  # the comparison tests the recursion, not the lattice


def test_deep_tanh_matches_autograd_of_real_networks():
    pytest.importorskip("torch")
    m = jac.jvp_mean(TANH, 1.3, u_cos=0.6)
    _, u2 = jac.jvp_monte_carlo(TANH, 100_000, y0=1.3, u_cos=0.6, seed=2, device="cpu")
    assert abs(m.first_moment[-1] - u2.mean()) < 4 * u2.std(ddof=1) / math.sqrt(u2.size)


def test_the_direction_matters_for_tanh_and_the_lattice_error_is_second_order():
    along, across = (jac.jvp_mean(TANH, 1.3, u_cos=c, points=32) for c in (1.0, 0.0))
    assert abs(along.first_moment[-1] - across.first_moment[-1]) > 1e3 * along.error_estimate[-1]
    finer = jac.jvp_mean(TANH, 1.3, u_cos=1.0, points=64)
    assert finer.error_estimate[-1] < 0.4 * along.error_estimate[-1]  # 1/4 for second order
    assert abs(finer.first_moment[-1] - along.first_moment[-1]) < along.error_estimate[-1]


def test_bad_points_and_orthogonal_weights_are_refused_by_name():
    with pytest.raises(ValueError, match="points"):
        jac.jvp_mean(TANH, points=4)
    with pytest.raises(ValueError, match="weight_law='orthogonal'"):
        jac.jvp_mean(Network([Layer(4, 0.5, 0.0, "tanh", weight_law="orthogonal")], input_width=4))
