"""The generic FFT (lattice) route of Prop. 1: rate of convergence, agreement with exact routes."""

import math
import warnings

import numpy as np
import pytest
from scipy import stats

import sigdist
from sigdist import Layer, Network, SigdistWarning


def lattice_law(net, n, y0=1.0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SigdistWarning)
        return sigdist.squared_norm_law(net, y0, method="lattice", lattice_size=n)


def test_relu_lattice_converges_to_the_exact_law_at_second_order():
    # linear binning keeps every cell's mean: the CDF error is O(spacing^2), so halving the spacing
    # divides it by 4 (observed order within [1.8, 2.2])
    net = Network.constant(30, 1, 2 / 30)
    exact = sigdist.squared_norm_law(net, 1.0)
    z = exact.ppf(np.linspace(0.0005, 0.9995, 400))
    errors = []
    for n in (256, 512, 1024, 2048):
        law = lattice_law(net, n)
        errors.append(np.max(np.abs(law.cdf(z) - exact.cdf(z))))
        # the Richardson estimate is within a factor 1.5 of the true error
        assert errors[-1] / 1.5 <= law.discretisation_error <= 1.5 * errors[-1]
        assert law.atom == pytest.approx(exact.atom, rel=1e-12)
        # mean-preserving binning: the mean is off only by what the lattice drops past its end (<= 1e-7)
        assert law.mass_lost <= 1e-7
        assert law.mean() == pytest.approx(exact.mean(), rel=1e-8)
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all((orders > 1.8) & (orders < 2.2)), orders


def test_relu_lattice_agrees_with_exact_route_over_layers_within_its_error():
    net = Network.constant(20, 2, 1.8 / 20, 0.05)
    exact = sigdist.layer_laws(net, 1.0)
    for n in (512, 1024):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SigdistWarning)
            lattice = sigdist.layer_laws(net, 1.0, method="lattice", lattice_size=n)
        for exact_l, law in zip(exact, lattice):
            z = exact_l.ppf(np.linspace(0.001, 0.999, 200))
            err = np.max(np.abs(law.cdf(z) - exact_l.cdf(z)))
            assert err <= law.error_estimate <= 3 * err
            assert law.mean() == pytest.approx(exact_l.mean(), rel=1e-6)  # up to the dropped tail


def test_linear_activation_lattice_matches_chi2():
    layer = Layer(8, 0.5, activation="linear")
    law = lattice_law(Network([layer]), 4096, y0=2.0)
    z = np.linspace(0.1, 20, 200)
    err = np.max(np.abs(law.cdf(z) - stats.chi2(8, scale=1.0).cdf(z)))
    assert err <= law.error_estimate < 1e-4


def test_bounded_activation_law_lives_on_zero_to_width():
    law = lattice_law(Network.constant(10, 1, 4.0, activation="tanh"), 1024)
    # tanh^2 < 1, so z < N: the lattice's hat functions may smear only within the error estimate past N
    assert float(law.sf(10.0)) <= law.error_estimate < 1e-3
    assert law.atom == 0.0  # tanh(h) = 0 only on a null set


def test_gelu_and_callable_give_the_same_law():
    from scipy.special import ndtr

    net_named = Network.constant(15, 1, 1.5 / 15, 0.02, activation="gelu")
    net_callable = Network.constant(15, 1, 1.5 / 15, 0.02, activation=lambda h: h * ndtr(h))
    a, b = lattice_law(net_named, 512), lattice_law(net_callable, 512)
    z = a.ppf(np.linspace(0.01, 0.99, 50))
    np.testing.assert_allclose(a.cdf(z), b.cdf(z), atol=1e-12)


def test_leaky_relu_mean_is_exact():
    slope = 0.2
    net = Network([Layer(25, 0.08, activation="leaky_relu", negative_slope=slope)] * 2)
    law = lattice_law(net, 512)
    mean = sigdist.squared_norm_moments(net, 1.0).first_moment
    assert mean[-1] == pytest.approx(1.0 * (0.08 * 25 * (1 + slope**2) / 2) ** 2, rel=1e-12)
    # exact up to the O(c_0 spacing) shift of lattice node 0's continuous mass off y = 0 (sigma_b = 0)
    assert law.mean() == pytest.approx(mean[-1], rel=1e-6)


@pytest.mark.parametrize("width", [3, 20])
def test_continuous_mass_near_zero_does_not_become_an_atom(width):
    # with sigma_b = 0, lattice node 0 holds continuous mass of (0, spacing): it must not be fed to the
    # next layer as y = 0, which maps to z = 0 surely
    net = Network.constant(width, 3, 2 / width)
    exact = sigdist.squared_norm_law(net, 1.0)
    law = lattice_law(net, 1024)
    assert abs(law.atom - exact.atom) <= law.mass_lost + 1e-15  # the dropped tail never reaches the atom
    z = np.linspace(0, float(exact.ppf(0.999)), 400)
    err = np.max(np.abs(law.cdf(z) - exact.cdf(z)))
    assert err <= law.error_estimate


@pytest.mark.parametrize("width, depth", [(10, 1), (200, 3), (1, 3)])
def test_tanh_lattice_law_of_a_tiny_input_keeps_its_mass(width, depth):
    # at y0 = 1e-30 the lattice route raised IndexError (a monotone piece wholly past the lattice) or
    # "Maximum allowed size exceeded", and the extremum of tanh^2 was located to 1e-13 in a range 1e-14
    # wide, which lost most of the mass; tanh(h) ~ h there, so the law is that of a linear network
    net = Network.constant(width, depth, 1.0 / width, activation="tanh")
    law = lattice_law(net, 256, y0=1e-30)
    assert law.mass_lost < 1e-6
    assert law.mean() == pytest.approx(1e-30, rel=1e-3)
    assert law.cdf(1e-30) == pytest.approx(lattice_law(Network.constant(width, depth, 1.0 / width,
                                                                        activation="linear"), 256).cdf(1.0), abs=1e-3)
