"""jvp_moments beyond depth 1 for smooth activations: the deterministic measure recursion (sigdist._jvp_mean)
against exact values and Monte Carlo (sigdist's exact reduced sampler and real networks differentiated by torch),
by z-scores at fixed seeds."""

import math

import numpy as np
import pytest

from sigdist import Layer, Network
from sigdist import jacobian as jac

TANH = Network([Layer(4, 0.5, 0.2, "tanh"), Layer(3, 0.7, 0.1, "tanh"), Layer(5, 0.4, 0.3, "tanh")], input_width=4)


def test_relu_with_biases_gives_the_exact_moments_for_any_direction():
    net = Network([Layer(4, 0.5, 0.2), Layer(3, 0.7, 0.1, "leaky_relu", negative_slope=0.3)], input_width=4)
    m = jac.jvp_moments(net, 1.3, u_cos=0.6, method="measures", points=32)
    exact = jac.jvp_moments(net)
    np.testing.assert_allclose(m.first_moment, exact.first_moment, rtol=1e-12)  # FFT roundoff
    np.testing.assert_allclose(m.second_moment, exact.second_moment, rtol=1e-12)


@pytest.mark.parametrize("activation, u_cos", [("tanh", 0.6), ("erf", 0.0), ("sigmoid", -0.8), ("gelu", 0.6),
                                               ("silu", -0.3), ("softplus", 0.0)])
def test_depth_one_equals_the_exact_quadrature(activation, u_cos):
    net = Network([Layer(4, 0.5, 0.2, activation)], input_width=4)
    m = jac.jvp_moments(net, 1.3, u_cos=u_cos, method="measures", points=64)
    exact = jac.jvp_moments(net, 1.3, u_cos=u_cos)
    assert m.first_moment[0] == pytest.approx(exact.first_moment[0], rel=1e-10)
    assert m.second_moment[0] == pytest.approx(exact.second_moment[0], rel=1e-10)


@pytest.mark.parametrize("u_cos", [0.0, 0.6])
def test_deep_tanh_with_biases_matches_the_exact_reduced_sampler(u_cos):
    m = jac.jvp_moments(TANH, 1.3, u_cos=u_cos, points=64)
    assert m.exact and m.first_moment_se is None
    s = jac.jvp_samples(TANH, 1.3, u_cos=u_cos, n_networks=400_000, seed=5)
    z1 = (m.first_moment - s.u2_mean) / s.u2_mean_se
    z2 = (m.second_moment - s.u2_second_moment) / s.u2_second_moment_se
    assert np.all(np.abs(z1[1:]) < 4.0) and np.all(np.abs(z2[1:]) < 4.0), (z1, z2)
    # the comparison tests the recursion, not the lattice
    assert np.all(m.first_moment_error < 0.05 * s.u2_mean_se)
    assert np.all(m.second_moment_error < 0.05 * s.u2_second_moment_se)


def test_deep_tanh_matches_autograd_of_real_networks():
    pytest.importorskip("torch")
    m = jac.jvp_moments(TANH, 1.3, u_cos=0.6, points=64)
    _, u2 = jac.jvp_monte_carlo(TANH, 100_000, y0=1.3, u_cos=0.6, seed=2, device="cpu")
    root = math.sqrt(u2.size)
    assert abs(m.first_moment[-1] - u2.mean()) < 4 * u2.std(ddof=1) / root
    assert abs(m.second_moment[-1] - np.mean(u2 ** 2)) < 4 * np.std(u2 ** 2, ddof=1) / root


def test_the_direction_matters_for_tanh_and_the_lattice_error_is_second_order():
    along, across = (jac.jvp_moments(TANH, 1.3, u_cos=c, points=32) for c in (1.0, 0.0))
    assert abs(along.second_moment[-1] - across.second_moment[-1]) > 1e3 * along.second_moment_error[-1]
    finer = jac.jvp_moments(TANH, 1.3, u_cos=1.0, points=64)
    for name in ("first_moment", "second_moment"):
        coarse_error, fine_error = getattr(along, f"{name}_error")[-1], getattr(finer, f"{name}_error")[-1]
        assert fine_error < 0.4 * coarse_error  # 1/4 for second order
        assert abs(getattr(finer, name)[-1] - getattr(along, name)[-1]) < coarse_error


def test_bad_method_points_and_orthogonal_weights_are_refused_by_name():
    with pytest.raises(ValueError, match="points"):
        jac.jvp_moments(TANH, points=4)
    with pytest.raises(ValueError, match="method"):
        jac.jvp_moments(TANH, method="exact")
    custom = Network([Layer(4, 0.8, 0.1, lambda h: h * np.tanh(h)), Layer(4, 0.5, 0.1, "relu")], input_width=4)
    with pytest.raises(ValueError, match="smooth activations"):
        jac.jvp_moments(custom, method="measures")
    assert not jac.jvp_moments(custom, n_networks=1000, seed=0).exact  # a user callable: the sampler
    with pytest.raises(ValueError, match="weight_law='orthogonal'"):
        jac.jvp_moments(Network([Layer(4, 0.5, 0.0, "tanh", weight_law="orthogonal")] * 2, input_width=4))


# -- unbounded phi (gelu, silu, softplus): the graded grid of |x|^2 ----------------------------------------------

def _net(activation, widths, sigma_b2):
    return Network([Layer(n, 2.0 / n, sigma_b2, activation) for n in widths], input_width=4)


UNBOUNDED = {  # (network, u_cos): widths 3-20, depths 2-5, with and without bias
    "gelu-narrow-no-bias": (_net("gelu", [3, 4, 3], 0.0), 0.6),
    "silu-wide-bias": (_net("silu", [20, 12, 20, 8, 16], 0.1), 0.3),
    "gelu-deep-bias": (_net("gelu", [6, 3, 5, 4, 3], 0.05), 0.0),
    "silu-no-bias": (_net("silu", [10, 10], 0.0), 0.0),
    "softplus-no-bias": (_net("softplus", [4, 4, 4], 0.0), 0.6),
    # relu-type layers mixed in take the graded grid too (their phi'^2 is a sign)
    "gelu-relu-silu-mix": (Network([Layer(4, 0.5, 0.1, "gelu"), Layer(6, 0.4, 0.0, "relu"),
                                    Layer(3, 0.6, 0.05, "silu")], input_width=4), 0.3),
    "relu-relu-tanh-no-bias": (Network([Layer(4, 0.5, 0.0, "relu"), Layer(4, 0.5, 0.0, "relu"),
                                        Layer(4, 0.5, 0.0, "tanh")], input_width=4), 0.3, 32),
}


@pytest.mark.parametrize("case", sorted(UNBOUNDED))
def test_unbounded_activations_match_the_exact_reduced_sampler(case):
    network, u_cos, *points = UNBOUNDED[case]
    # method="auto": the graded measure recursion (a tanh layer after relu ones: 8e-4 at 16 points, so 32)
    m = jac.jvp_moments(network, 1.3, u_cos=u_cos, points=points[0] if points else None)
    assert m.exact and m.first_moment_se is None
    s = jac.jvp_samples(network, 1.3, u_cos=u_cos, n_networks=200_000, seed=11)
    z1 = (m.first_moment - s.u2_mean) / s.u2_mean_se
    z2 = (m.second_moment - s.u2_second_moment) / s.u2_second_moment_se
    assert np.all(np.abs(z1) < 4.0) and np.all(np.abs(z2) < 4.0), (z1, z2)
    # the comparison tests the recursion, not its grid (a shift of at most 0.1 in z)
    assert np.all(m.first_moment_error < 0.1 * s.u2_mean_se)
    assert np.all(m.second_moment_error < 0.1 * s.u2_second_moment_se)


def test_unbounded_error_estimate_is_honest_and_tight_against_a_finer_run():
    network = _net("gelu", [4, 3, 4], 0.1)
    coarse = jac.jvp_moments(network, 1.3, u_cos=0.6, method="measures", points=8)
    fine = jac.jvp_moments(network, 1.3, u_cos=0.6, method="measures", points=16)
    for name in ("first_moment", "second_moment"):
        error, finer_error = getattr(coarse, f"{name}_error")[1:], getattr(fine, f"{name}_error")[1:]
        difference = np.abs(getattr(coarse, name) - getattr(fine, name))[1:]
        assert np.all(difference <= error) and np.all(error <= 10.0 * difference), (name, error, difference)
        assert np.all(finer_error < error)


def test_dropped_mass_is_bounded_and_negligible():
    from sigdist._jvp_mean import _run_graded

    network, u_cos = UNBOUNDED["gelu-deep-bias"][:2]
    derivatives = [jac.activation_derivative(layer) for layer in network]
    first, second, lost1, lost2 = _run_graded(network, 1.3, u_cos, 8, derivatives)
    assert np.all(lost1 < 1e-12 * first) and np.all(lost2 < 1e-12 * second)
