"""sigdist.free_probability: infinite-width Jacobian spectra against their closed forms."""

import math

import numpy as np
import pytest

from sigdist.free_probability import (FreeJacobianLaw, free_jacobian_law, fuss_catalan_density, fuss_catalan_edge,
                                      fuss_catalan_moment)


@pytest.mark.parametrize("depth", [1, 2, 5, 20, 100])
def test_fuss_catalan_density_is_normalised_and_has_the_closed_form_moments_and_edge(depth):
    law = free_jacobian_law(depth)
    assert abs(law.mass() - 1.0) < 1e-10
    for k in (1, 2, 3, 4):
        assert law.moment(k) == pytest.approx(fuss_catalan_moment(depth, k), rel=1e-10)
    assert law.support() == pytest.approx((0.0, fuss_catalan_edge(depth)), rel=1e-12)


@pytest.mark.parametrize("depth", [1, 3, 10])
def test_fuss_catalan_density_equals_its_parametric_closed_form(depth):
    theta = np.linspace(0.002, math.pi / (depth + 1) - 0.002, 9)
    x, rho = fuss_catalan_density(theta, depth)
    np.testing.assert_allclose(free_jacobian_law(depth).pdf(x), rho, rtol=1e-9)


def test_depth_one_is_marchenko_pastur():
    x = np.array([0.1, 1.0, 2.0, 3.9])
    np.testing.assert_allclose(free_jacobian_law(1).pdf(x), np.sqrt((4 - x) / x) / (2 * math.pi), rtol=1e-10)
    assert free_jacobian_law(1).pdf(np.array([4.1, -1.0])).tolist() == [0.0, 0.0]


def test_fuss_catalan_moments_are_the_catalan_numbers_at_depth_one():
    assert [fuss_catalan_moment(1, k) for k in range(6)] == [1, 1, 2, 5, 14, 42]


@pytest.mark.parametrize("depth", [1, 2, 4, 10, 50])
def test_relu_he_spectrum_has_half_its_mass_at_zero_and_the_s_transform_moments(depth):
    law = free_jacobian_law(depth, "relu")
    assert law.atoms == ((0.0, 0.5),)
    assert abs(law.mass() - 1.0) < 1e-10
    m1, m2 = law.exact_moments()
    assert (m1, m2) == pytest.approx((1.0, 1.0 + 2.0 * depth), rel=1e-12)
    assert law.moment(1) == pytest.approx(m1, rel=1e-10)
    assert law.moment(2) == pytest.approx(m2, rel=1e-10)


def test_relu_spectrum_is_wider_than_the_linear_one_at_equal_mean():
    relu, lin = free_jacobian_law(5, "relu"), free_jacobian_law(5)
    assert relu.support()[1] > lin.support()[1]


def test_linear_orthogonal_is_a_point_mass_and_relu_orthogonal_depth_one_two_points():
    law = free_jacobian_law(7, weights="orthogonal")
    assert law.atoms == ((1.0, 1.0),) and law.moment(2) == 1.0 and law.mass() == 1.0
    law = free_jacobian_law(1, "relu", "orthogonal")
    assert law.moment(1) == pytest.approx(law.exact_moments()[0]) and law.moment(2) == pytest.approx(2.0)


def test_sigma2_scales_the_spectrum():
    law = free_jacobian_law(3, sigma2=2.0)
    assert law.moment(1) == pytest.approx(8.0, rel=1e-10)
    assert law.moment(2) == pytest.approx(64.0 * fuss_catalan_moment(3, 2), rel=1e-10)


@pytest.mark.parametrize("kwargs, name", [({"activation": "tanh"}, "activation"), ({"weights": "haar"}, "weights"),
                                          ({"sigma2": -1.0}, "sigma2"), ({"depth": 0}, "depth")])
def test_bad_arguments_are_refused_by_name(kwargs, name):
    args = {"depth": 2, "activation": "linear", "weights": "gaussian", "sigma2": 1.0} | kwargs
    with pytest.raises(ValueError, match=name):
        FreeJacobianLaw(**args)


def test_relu_orthogonal_beyond_depth_two_is_the_continued_law_not_the_ray_route():
    from sigdist.free_probability import ContinuedFreeJacobianLaw

    with pytest.raises(ValueError, match="free_jacobian_law"):
        FreeJacobianLaw(3, "relu", "orthogonal", 2.0)
    assert isinstance(free_jacobian_law(3, "relu", "orthogonal"), ContinuedFreeJacobianLaw)


# -- any activation: the cut by continuation -----------------------------------------------------------------

@pytest.mark.parametrize("activation, depth", [("linear", 4), ("relu", 3)])
def test_continuation_route_equals_the_ray_route(activation, depth):
    from sigdist.free_probability import ContinuedFreeJacobianLaw

    cont = ContinuedFreeJacobianLaw(depth, activation, 2.0 if activation == "relu" else 1.0)
    rays = free_jacobian_law(depth, activation)
    x = np.array([0.05, 0.3, 1.0, 3.0])
    np.testing.assert_allclose(cont.pdf(x), rays.pdf(x), rtol=1e-12)
    assert cont.upper_edge == pytest.approx(rays.support()[1], rel=1e-10)


@pytest.mark.parametrize("q", [0.5, 2.0])
def test_critical_tanh_density_is_normalised_with_the_s_transform_moments(q):
    law = free_jacobian_law(10, "tanh", preactivation_variance=q)
    mu1, mu2 = law.d_moments
    assert law.sigma2 * mu1 == pytest.approx(1.0, rel=1e-14)  # critical: m_1 = 1
    assert abs(law.mass() - 1.0) < 1e-10
    m1, m2 = law.exact_moments()
    assert (m1, m2) == pytest.approx((1.0, 1.0 + 10 * mu2 / mu1 ** 2), rel=1e-12)
    assert law.moment(1) == pytest.approx(m1, rel=1e-10)
    assert law.moment(2) == pytest.approx(m2, rel=1e-10)


def test_tanh_needs_its_fixed_point_and_gaussian_weights():
    with pytest.raises(ValueError, match="preactivation_variance"):
        free_jacobian_law(3, "tanh")
    with pytest.raises(NotImplementedError, match="gelu"):
        free_jacobian_law(3, "gelu", "orthogonal", preactivation_variance=1.0)


def test_free_moments_agree_with_every_built_density():
    from sigdist.free_probability import free_moments

    assert free_moments(4) == pytest.approx(free_jacobian_law(4).exact_moments(), rel=1e-14)
    assert free_moments(4, "relu") == pytest.approx((1.0, 9.0), rel=1e-14)
    assert free_moments(1, "relu", "orthogonal") == pytest.approx(free_jacobian_law(1, "relu", "orthogonal")
                                                                 .exact_moments(), rel=1e-14)
    assert free_moments(6, "linear", "orthogonal") == (1.0, 1.0)
    law = free_jacobian_law(3, "tanh", preactivation_variance=0.7)
    assert free_moments(3, "tanh", preactivation_variance=0.7) == pytest.approx(law.exact_moments(), rel=1e-13)
    assert free_moments(5, "relu", "orthogonal") == pytest.approx((1.0, 6.0), rel=1e-14)
