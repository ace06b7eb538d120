"""SquaredNormLaw behaves like a scipy.stats frozen distribution."""

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, stats

import sigdist
from sigdist import Network, SigdistWarning
from sigdist.montecarlo import ks_distance


@pytest.fixture(scope="module")
def law():
    return sigdist.squared_norm_law(Network.constant(6, 3, 2 / 6), 1.0)


def test_cdf_pdf_ppf_are_consistent(law):
    q = np.linspace(0.2, 0.999, 41)  # the atom is ~0.046: stay above it
    x = law.ppf(q)
    np.testing.assert_allclose(law.cdf(x), q, atol=1e-12)
    np.testing.assert_allclose(law.cdf(x) + law.sf(x), 1 - law.mass_lost, atol=1e-14)
    # pdf is the derivative of cdf
    h = 1e-5 * x
    np.testing.assert_allclose((law.cdf(x + h) - law.cdf(x - h)) / (2 * h), law.pdf(x), rtol=1e-6)
    # isf is solved from the right, ppf from the left: they agree up to the law's CDF error over the density
    x90 = float(law.ppf(0.9))
    assert abs(float(law.isf(0.1)) - x90) <= law.error_estimate / float(law.pdf(x90))


def test_atom_is_explicit_and_exact(law):
    atom = 1 - (1 - 2.0**-6) ** 3
    assert law.atom == pytest.approx(atom, rel=1e-14)
    assert float(law.cdf(0.0)) == pytest.approx(atom, rel=1e-14)
    assert float(law.cdf(-1.0)) == 0.0 and float(law.sf(-1.0)) == 1.0
    assert float(law.ppf(atom / 2)) == 0.0 and float(law.ppf(0.0)) == 0.0
    assert math.isinf(float(law.ppf(1.0)))
    assert float(law.pdf(0.0)) == 0.0 and float(law.pdf(-2.0)) == 0.0


def test_moments_match_quadrature_of_the_density(law):
    mean = integrate.quad(lambda z: z * float(law.pdf(z)), 0, np.inf, limit=400, epsabs=1e-12)[0]
    assert law.mean() == pytest.approx(mean, rel=1e-8)
    m, m2 = sigdist.squared_norm_moments(Network.constant(6, 3, 2 / 6), 1.0)
    assert law.var() == pytest.approx(m2[-1] - m[-1] ** 2, rel=1e-9)
    assert law.std() == pytest.approx(math.sqrt(law.var()))
    assert law.moment(0) == pytest.approx(1.0, abs=1e-9)
    with pytest.raises(ValueError, match="order"):
        law.moment(-1)


def test_rvs_is_seeded_and_follows_the_law(law):
    a = law.rvs(20000, random_state=3)
    b = law.rvs(20000, random_state=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, law.rvs(20000, random_state=4))
    # KS against the law's own cdf at the 0.1 % level, the atom checked by a binomial z-score
    d = ks_distance(a, law.cdf, law.atom)
    assert stats.kstwo(a.size).sf(d) > 1e-3
    p0 = np.mean(a == 0)
    assert abs(p0 - law.atom) / math.sqrt(law.atom * (1 - law.atom) / a.size) < 4
    assert isinstance(law.rvs(random_state=0), float)


def test_interval_median_support(law):
    lo, hi = law.interval(0.9)
    assert float(law.cdf(hi)) - float(law.cdf(lo)) == pytest.approx(0.9, abs=1e-12)
    assert law.median() == pytest.approx(float(law.ppf(0.5)))
    assert law.support() == (0.0, math.inf)
    with pytest.raises(ValueError, match="q"):
        law.ppf(1.5)


def test_vectorised_shapes(law):
    x = np.ones((3, 4))
    assert law.cdf(x).shape == (3, 4) and law.pdf(x).shape == (3, 4) and law.ppf(0.5 * x).shape == (3, 4)
    assert law.rvs((2, 5), random_state=0).shape == (2, 5)


def test_warns_when_the_error_estimate_exceeds_tol():
    net = Network.constant(20, 2, 0.1, activation="tanh")
    with pytest.warns(SigdistWarning, match="error estimate"):
        law = sigdist.squared_norm_law(net, 1.0, tol=1e-9, lattice_size=256)
    assert law.error_estimate > 1e-9
    with warnings.catch_warnings():
        warnings.simplefilter("error", SigdistWarning)
        sigdist.squared_norm_law(Network.constant(20, 2, 0.1), 1.0, tol=1e-8)
