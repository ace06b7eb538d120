"""The kernel k(y, z) of eq. 7 against an independent mpmath evaluation of the same sum."""

import math

import mpmath as mp
import numpy as np
import pytest
from scipy import integrate

from sigdist import Layer
from sigdist.kernel import kernel_atom, kernel_cdf, kernel_logpdf, kernel_pdf, kernel_sf

mp.mp.dps = 40


def mp_kernel(y, z, width, sw2, sb2):
    """(log pdf, cdf, sf) of eq. 7 summed over every k in mpmath (the second route)."""
    s = mp.mpf(sw2) * mp.mpf(y) + mp.mpf(sb2)
    z = mp.mpf(z)
    t = z / s
    pdf = cdf = sf = mp.mpf(0)
    for k in range(1, width + 1):
        w = mp.binomial(width, k) / mp.mpf(2) ** width
        a = mp.mpf(k) / 2
        pdf += w * mp.exp((a - 1) * mp.log(t) - t / 2 - a * mp.log(2) - mp.loggamma(a)) / s
        if w > mp.mpf(10) ** -45:  # the dropped weights sum below 1e-41: cdf and sf stay exact to that
            cdf += w * mp.gammainc(a, 0, t / 2, regularized=True)
            sf += w * mp.gammainc(a, t / 2, mp.inf, regularized=True)
    return mp.log(pdf), cdf + mp.mpf(2) ** (-width), sf


# cdf tolerance: a sum of ~sqrt(N) significant gammainc terms, each good to a few ulp
@pytest.mark.parametrize(
    "width, sw2, sb2, y, zs, cdf_tol",
    [
        (1, 1.0, 0.0, 1.0, [1e-6, 0.3, 2.0, 30.0], 1e-15),
        (20, 0.1, 0.0, 1.0, [0.05, 0.8, 1.0, 3.0, 8.0], 1e-15),
        (200, 0.01, 0.5, 2.0, [100.0, 150.0, 250.0], 1e-14),
        (200, 2 / 200, 0.0, 1e-300, [1e-301, 1e-300, 3e-300], 1e-14),
        (200, 2 / 200, 0.0, 1e300, [5e299, 1e300, 2e300], 1e-14),
        (10000, 2 / 10000, 0.0, 1.0, [0.9, 1.0, 1.05], 2e-13),
    ],
)
def test_kernel_matches_mpmath(width, sw2, sb2, y, zs, cdf_tol):
    layer = Layer(width, sw2, sb2)
    logpdf = kernel_logpdf(layer, y, np.array(zs))
    cdf = kernel_cdf(layer, y, np.array(zs))
    sf = kernel_sf(layer, y, np.array(zs))
    assert np.all(np.isfinite(logpdf))
    for i, z in enumerate(zs):
        ref_logpdf, ref_cdf, ref_sf = mp_kernel(y, z, width, sw2, sb2)
        assert logpdf[i] == pytest.approx(float(ref_logpdf), abs=1e-11)
        assert cdf[i] == pytest.approx(float(ref_cdf), abs=cdf_tol)
        assert sf[i] == pytest.approx(float(ref_sf), rel=1e-11, abs=1e-300)


def test_kernel_tails_are_finite_and_accurate_far_out():
    layer = Layer(10000, 2 / 10000, 0.0)
    # far right tail: sf tiny but accurate relative to mpmath; logpdf finite where pdf underflows
    z = 1.5
    ref_logpdf, _, ref_sf = mp_kernel(1.0, z, 10000, 2 / 10000, 0.0)
    assert float(kernel_sf(layer, 1.0, z)) == pytest.approx(float(ref_sf), rel=1e-9)
    assert float(kernel_logpdf(layer, 1.0, z)) == pytest.approx(float(ref_logpdf), abs=1e-9)
    deep = float(kernel_logpdf(layer, 1.0, 3.0))
    assert math.isfinite(deep) and deep < -700  # the pdf itself underflows: the log does not


def test_kernel_integrates_to_one_minus_atom_and_has_the_exact_mean():
    layer = Layer(15, 0.3, 0.2)
    y = 1.7
    s = 0.3 * y + 0.2
    cuts = [0.0, 1.0, 5.0, 20.0, 80.0, np.inf]

    def integral(f):
        return sum(integrate.quad(f, a, b, epsabs=1e-14, epsrel=1e-12, limit=400)[0] for a, b in zip(cuts, cuts[1:]))

    mass = integral(lambda z: float(kernel_pdf(layer, y, z)))
    mean = integral(lambda z: z * float(kernel_pdf(layer, y, z)))
    assert mass == pytest.approx(1 - 2.0**-15, abs=1e-12)
    assert mean == pytest.approx(s * 15 / 2, rel=1e-11)  # eq. 5
    assert float(kernel_atom(layer, y)) == 2.0**-15


def test_kernel_atom_when_the_variance_vanishes():
    layer = Layer(5, 1.0, 0.0)
    assert float(kernel_atom(layer, 0.0)) == 1.0
    assert float(kernel_cdf(layer, 0.0, 0.0)) == 1.0
    assert float(kernel_sf(layer, 0.0, 1.0)) == 0.0


def test_linear_activation_kernel_is_a_scaled_chi2():
    from scipy import stats

    layer = Layer(7, 0.5, 0.1, activation="linear")
    y, z = 2.0, np.array([0.3, 1.0, 4.0])
    s = 0.5 * y + 0.1
    np.testing.assert_allclose(kernel_cdf(layer, y, z), stats.chi2(7, scale=s).cdf(z), rtol=1e-13)
    np.testing.assert_allclose(kernel_pdf(layer, y, z), stats.chi2(7, scale=s).pdf(z), rtol=1e-12)


def test_kernel_rejects_bad_y():
    with pytest.raises(ValueError, match="y"):
        kernel_cdf(Layer(5, 1.0), -1.0, 1.0)
