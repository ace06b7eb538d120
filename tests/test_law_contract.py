"""The Law base class implements the scipy.stats frozen contract once from a few hooks.

Two small laws written only through the hooks are checked against scipy's own frozen laws,
whose values are independent: a standard normal (no atom; every default hook in use) and a
mixture with an atom (``P(X = 0) = 0.3``, otherwise ``Exp(1)``), whose values are closed forms.
"""

import math

import numpy as np
import pytest
from scipy import special, stats

from sigdist import EmpiricalLaw, Law, SigdistWarning


class _Normal(Law):
    """N(0, 1) from _cdf, _sf and _pdf: ppf, isf, moments, entropy and expect by the default hooks."""

    _support = (-math.inf, math.inf)

    def _cdf(self, x):
        return special.ndtr(x)

    def _sf(self, x):  # the hook a law writes for relative accuracy in its right tail
        return special.ndtr(-x)

    def _pdf(self, x):
        return np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


class _AtomExp(Law):
    """0.3 at 0, otherwise Exp(1): ppf by the default bisection, moments by the default quadrature."""

    atom = 0.3
    _support = (0.0, math.inf)

    def _cdf(self, x):
        return 0.7 * -np.expm1(-np.maximum(x, 0.0))

    def _sf(self, x):
        return 0.7 * np.exp(-np.maximum(x, 0.0))

    def _pdf(self, x):
        return 0.7 * np.exp(-x)


X = np.array([-3.0, -0.2, 0.0, 0.4, 2.5])
Q = np.array([0.0, 1e-6, 0.1, 0.5, 0.9, 1 - 1e-9, 1.0])


def test_a_law_without_atom_from_two_hooks_meets_scipy():
    law, ref = _Normal(), stats.norm()
    for name in ("pdf", "logpdf", "cdf", "sf", "logcdf", "logsf"):
        np.testing.assert_allclose(getattr(law, name)(X), getattr(ref, name)(X), rtol=1e-13, err_msg=name)
    # bisection to machine precision in x: the quantiles agree to a few ulps of their size
    np.testing.assert_allclose(law.ppf(Q), ref.ppf(Q), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(law.isf(Q), ref.isf(Q), rtol=1e-12, atol=1e-14)
    # quadrature at epsrel 1e-12: moments and entropy to 1e-10
    assert law.mean() == pytest.approx(0.0, abs=1e-10)
    assert law.var() == pytest.approx(1.0, rel=1e-10)
    m, v, s, k = law.stats("mvsk")
    assert (m, v, s, k) == pytest.approx((0.0, 1.0, 0.0, 0.0), abs=1e-8)
    assert law.moment(4) == pytest.approx(3.0, rel=1e-10)
    assert law.entropy() == pytest.approx(float(ref.entropy()), rel=1e-10)
    assert law.expect(np.cos) == pytest.approx(math.exp(-0.5), rel=1e-10)
    assert law.expect(lambda x: x, lb=0.0, conditional=True) == pytest.approx(math.sqrt(2 / math.pi), rel=1e-10)
    lo, hi = law.interval(0.95)
    assert (lo, hi) == pytest.approx(ref.interval(0.95), rel=1e-12)


def test_the_atom_is_handled_once_by_the_base():
    law = _AtomExp()
    cdf = np.where(X < 0, 0.0, 0.3 + 0.7 * -np.expm1(-np.maximum(X, 0)))
    np.testing.assert_allclose(law.cdf(X), cdf, rtol=1e-14)
    np.testing.assert_allclose(law.sf(X), 1 - cdf, rtol=1e-14)
    assert law.pdf(0.0) == pytest.approx(0.7) and law.pdf(-1.0) == 0.0
    # quantiles: q <= 0.3 is the atom; above it the continuous part's inverse
    q = np.array([0.0, 0.1, 0.3, 0.3 + 1e-12, 0.65, 0.99])
    expect = np.where(q <= 0.3, 0.0, -np.log1p(-(q - 0.3) / 0.7))
    np.testing.assert_allclose(law.ppf(q), expect, rtol=1e-11, atol=1e-15)
    # isf from the right: sf(x) = q for q < 0.7, the atom for 0.7 <= q < 1
    p = np.array([1e-200, 1e-5, 0.5, 0.7, 0.9])
    np.testing.assert_allclose(law.isf(p), np.where(p < 0.7, -np.log(np.minimum(p, 0.7) / 0.7), 0.0), rtol=1e-11)
    assert law.mean() == pytest.approx(0.7, rel=1e-10)
    assert law.var() == pytest.approx(0.7 * 2 - 0.49, rel=1e-10)
    assert law.median() == pytest.approx(math.log(0.7 / 0.5), rel=1e-12)
    with pytest.raises(ValueError, match="entropy is not defined.*atom"):
        law.entropy()
    assert isinstance(law.ppf(0.2), np.floating) and np.ndim(law.ppf(0.2)) == 0


def test_samples_follow_the_law_and_repeat_with_every_kind_of_seed():
    law = _AtomExp()
    kinds = [lambda: 11, lambda: np.random.SeedSequence(11), lambda: np.random.default_rng(11)]
    try:
        import torch

        kinds.append(lambda: torch.Generator().manual_seed(11))
    except ImportError:
        pass
    for make in kinds:
        a, b = law.rvs(2000, random_state=make()), law.rvs(2000, random_state=make())
        assert np.array_equal(a, b) and a.shape == (2000,)
    x = law.rvs(200_000, random_state=3)
    # the atom's frequency by z-score against its binomial standard error
    share = np.mean(x == 0)
    assert abs(share - 0.3) / math.sqrt(0.3 * 0.7 / x.size) < 4
    assert stats.kstest(x[x > 0], "expon").pvalue > 1e-4
    assert isinstance(law.rvs(random_state=0), float)


@pytest.mark.parametrize("call, word", [
    (lambda law: law.cdf("a"), "x must be"),
    (lambda law: law.ppf(1.5), "q must lie in \\[0, 1\\]"),
    (lambda law: law.isf(np.nan), "q must lie in \\[0, 1\\]"),
    (lambda law: law.moment(-1), "order must be a finite number >= 0"),
    (lambda law: law.interval(2), "confidence must lie in \\[0, 1\\]"),
    (lambda law: law.stats("mx"), "moments must be"),
    (lambda law: law.rvs(-2), "size must be"),
    (lambda law: law.rvs(3, random_state=-1), "random_state must be an integer"),
    (lambda law: law.expect(3), "func must be a callable"),
    (lambda law: law.expect(lb=2, ub=1), "lb must not exceed ub"),
])
def test_bad_arguments_are_refused_by_name(call, word):
    with pytest.raises(ValueError, match=word):
        call(_AtomExp())


def test_nan_points_give_nan_as_in_scipy():
    law = _AtomExp()
    out = law.cdf([np.nan, 1.0])
    assert np.isnan(out[0]) and out[1] > 0


def test_empirical_law_is_the_step_function_of_its_sample_with_standard_errors():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(4000)
    law = EmpiricalLaw(x, label="g")
    assert law.cdf(0.0) == np.mean(x <= 0.0)
    assert law.sf(0.0) == np.mean(x > 0.0)
    assert law.ppf(0.5) == np.sort(x)[1999]
    assert law.mean() == pytest.approx(np.mean(x), rel=1e-12)
    assert law.mean_se() == pytest.approx(np.std(x, ddof=1) / math.sqrt(x.size), rel=1e-12)
    # the sample mean of N(0, 1) is within 4 standard errors of 0; the CDF at 0 of 1/2
    assert abs(law.mean()) < 4 * law.mean_se()
    assert abs(law.cdf(0.0) - 0.5) < 4 * law.cdf_se(0.0)
    with pytest.raises(ValueError, match="discrete"):
        law.pdf(0.0)
    with pytest.raises(ValueError, match="samples must be finite"):
        EmpiricalLaw([1.0, np.nan])
    assert "EmpiricalLaw(g, size=4000" in repr(law)


def test_expect_warns_when_quadrature_misses_the_tolerance():
    class _Cauchy(Law):
        _support = (-math.inf, math.inf)
        tol = 1e-12

        def _cdf(self, x):
            return 0.5 + np.arctan(x) / math.pi

        def _sf(self, x):
            return 0.5 - np.arctan(x) / math.pi

        def _pdf(self, x):  # 1 / (pi (1 + x^2)), without overflow out to 1e300
            t = 1.0 / np.maximum(np.abs(x), 1.0)
            return np.where(np.abs(x) > 1, t * t / (math.pi * (1 + t * t)), 1 / (math.pi * (1 + x * x)))

    # E|X|^0.999 of a Cauchy law is 1 / cos(0.4995 pi) = 636.6, but its tail decays like x^-1.001:
    # by 1e300 a third of it is still missing, and expect() says so instead of returning 16.6 silently
    with pytest.warns(SigdistWarning, match="does not die out"):
        _Cauchy().expect(lambda x: abs(x) ** 0.999)
    # a convergent one is computed: E|X|^0.5 = 1 / cos(pi / 4)
    assert _Cauchy().expect(lambda x: abs(x) ** 0.5) == pytest.approx(math.sqrt(2), rel=1e-9)
