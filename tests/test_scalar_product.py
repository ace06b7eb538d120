"""The law of <x1, x2> after one ReLU layer: atom, exact moments and error estimate against real sums (Thm. 5)."""

import math
import warnings

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
    # the estimate was 5e-3 against tol 1e-6, silently; the default tol (1e-3) is what the default lattice reaches
    with pytest.warns(SigdistWarning, match=r"error estimate 0\.00\d+ .* exceeds tol=1e-06; raise lattice_size"):
        law = scalar_product_law(Layer(10, 1.0), 1.0, 1.0, 0.5, tol=1e-6)
    assert law.error_estimate > 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("error", SigdistWarning)
        assert scalar_product_law(Layer(10, 1.0), 1.0, 1.0, 0.5).error_estimate <= 1e-3
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


def test_scalar_product_law_answers_the_law_contract_against_real_sums():
    layer, y1, y2, y12 = Layer(4, 1.0), 1.0, 1.0, 0.3
    law = scalar_product_law(layer, y1, y2, y12, lattice_size=1024, tol=1e-2)  # estimate 2.5e-3
    rng = np.random.default_rng(21)
    h = rng.multivariate_normal([0, 0], [[y1, y12], [y12, y2]], size=(200_000, 4))
    sums = np.sort((np.maximum(h[..., 0], 0) * np.maximum(h[..., 1], 0)).sum(axis=1))
    F = lambda x: np.searchsorted(sums, x, side="right") / sums.size  # noqa: E731
    # allowed: the Monte Carlo z-score plus the law's own sup-norm CDF error estimate
    slack = lambda f: 4 * math.sqrt(max(f * (1 - f), 1e-12) / sums.size) + law.error_estimate  # noqa: E731
    for q in (0.7, 0.9, 0.99):
        x = float(law.ppf(q))
        assert abs(F(x) - q) < slack(q), q
        y = float(law.isf(1 - q))
        assert abs(F(y) - q) < slack(q), q
        assert abs(float(law.sf(x)) - (1 - F(x))) < slack(q)
    assert law.support()[0] == 0.0 and law.median() == float(law.ppf(0.5))
    lo, hi = law.interval(0.9)
    assert abs(F(hi) - F(lo) - 0.9) < 2 * slack(0.9) + law.atom * (lo == 0.0)
    z = (sums.mean() - law.mean()) / (sums.std(ddof=1) / math.sqrt(sums.size))
    assert abs(z) < 4
    assert law.std() == pytest.approx(math.sqrt(law.var()), rel=1e-14)
    x = law.rvs(100_000, random_state=2)
    assert np.array_equal(x, law.rvs(100_000, random_state=2))
    assert abs(np.mean(x == 0) - law.atom) < 4 * math.sqrt(law.atom * (1 - law.atom) / x.size)
    from sigdist import Law

    if not isinstance(law, Law):
        pytest.skip("SquaredNormLaw is not a sigdist.Law yet: stats, expect and logcdf come with the laws branch")
    m, v = law.stats("mv")
    assert (m, v) == (law.mean(), law.var())
    # E X = int_0^inf (1 - F): a sup-norm CDF error e over [0, isf(1e-12)] moves it by at most e isf(1e-12)
    assert law.expect() == pytest.approx(law.mean(), abs=law.error_estimate * float(law.isf(1e-12)))
