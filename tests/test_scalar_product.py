"""The law of <x1, x2> after one ReLU layer: atom, exact moments and error estimate against real sums (Thm. 5)."""

import math

import numpy as np
import pytest

from sigdist import Layer, SigdistWarning
from sigdist.relu_pair import mean_scalar_product, orthant_probability
from sigdist.scalar_product import scalar_product_law


def test_scalar_product_law_matches_real_sums():
    from sigdist.montecarlo import compare

    # V = (1, 1.5, 0.6): a layer with sigma_w2 = 1, sigma_b2 = 0 and inputs y = V
    layer, y1, y2, y12 = Layer(12, 1.0), 1.0, 1.5, 0.6
    law = scalar_product_law(layer, y1, y2, y12, lattice_size=2048, tol=1e-4)  # the accuracy checked below
    assert law.atom == pytest.approx((1 - orthant_probability(y12 / math.sqrt(y1 * y2))) ** 12, rel=1e-12)
    assert law.mean() == pytest.approx(mean_scalar_product(layer, y1, y2, y12), rel=1e-9)
    assert law.error_estimate < 1e-4
    rng = np.random.default_rng(3)
    h = rng.multivariate_normal([0, 0], [[y1, y12], [y12, y2]], size=(50_000, 12))
    sums = (np.maximum(h[..., 0], 0) * np.maximum(h[..., 1], 0)).sum(axis=1)
    assert compare(law, sums).passes()


def test_scalar_product_law_reads_sigma_and_width_from_the_layer():
    # the same V = (0.5 + 0.1, 0.5 * 2 + 0.1, 0.5 * 0.3 + 0.1) as a layer (1, 1, 1) with y = V: the same law
    a = scalar_product_law(Layer(6, 0.5, 0.1), 1.0, 2.0, 0.3, lattice_size=256, tol=1e-2)
    b = scalar_product_law(Layer(6, 1.0), 0.6, 1.1, 0.25, lattice_size=256, tol=1e-2)
    assert a.atom == pytest.approx(b.atom, rel=1e-12) and a.mean() == pytest.approx(b.mean(), rel=1e-12)
    np.testing.assert_allclose(a.cdf([0.5, 1.0, 3.0]), b.cdf([0.5, 1.0, 3.0]), rtol=1e-12)


def test_scalar_product_law_at_opposite_inputs_is_the_atom():
    law = scalar_product_law(Layer(5, 1.0), 1.0, 1.0, -1.0, lattice_size=256)
    assert law.atom == pytest.approx(1.0) and law.mean() == pytest.approx(0.0, abs=1e-15)


def test_scalar_product_law_of_one_unit_fits_its_own_tail():
    # width 1: one component's own tail must fit the lattice; the mean is exact (1 / (2 pi) at rho = 0)
    law = scalar_product_law(Layer(1, 1.0), 1.0, 1.0, 0.0, lattice_size=1024, tol=1e-2)
    assert law.mean() == pytest.approx(1 / (2 * math.pi), rel=1e-6)


def test_scalar_product_law_second_moment_is_exact():
    layer = Layer(4, 1.0)
    law = scalar_product_law(layer, 1.0, 1.0, 0.5, lattice_size=512, tol=1e-2)
    from sigdist.relu_pair import product_law

    unit = product_law(1.0, 1.0, 0.5)
    # E S^2 = N E[X^2] + N (N - 1) E[X]^2 for a sum of N i.i.d. products
    assert law.moment(2) == pytest.approx(4 * unit.moment(2) + 12 * unit.mean() ** 2, rel=1e-9)


def test_scalar_product_law_warns_when_its_error_estimate_misses_tol():
    # the estimate was 5e-3 against the default tol 1e-6, silently
    with pytest.warns(SigdistWarning, match=r"error estimate 0\.00\d+ .* exceeds tol=1e-06; raise lattice_size"):
        law = scalar_product_law(Layer(10, 1.0), 1.0, 1.0, 0.5)
    assert law.error_estimate > 1e-6
    for tol in (float("nan"), 0.0, -1e-3, 1.0, "1e-6", None):
        with pytest.raises(ValueError, match="tol must be a number in"):
            scalar_product_law(Layer(10, 1.0), 1.0, 1.0, 0.5, tol=tol)


def test_scalar_product_law_refuses_bad_inputs_by_name():
    with pytest.raises(ValueError, match="layer must be a sigdist.Layer"):
        scalar_product_law(10, 1.0, 1.0, 0.5)
    with pytest.raises(ValueError, match="y12"):
        scalar_product_law(Layer(10, 1.0), 1.0, 1.0, 1.5)
    with pytest.raises(ValueError, match="lattice_size"):
        scalar_product_law(Layer(10, 1.0), 1.0, 1.0, 0.5, lattice_size=8)
