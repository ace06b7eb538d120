"""SquaredNormLaw is a sigdist Law: the scipy.stats frozen contract, with tails kept in relative accuracy."""

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, special, stats

import sigdist
from sigdist import Layer, Network, SigdistWarning
from sigdist.laws import SquaredNormLaw
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
    exact = sigdist.squared_norm_moments(Network.constant(6, 3, 2 / 6), 1.0)
    m, m2 = exact.first_moment, exact.second_moment
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


def test_interval_median_and_support_follow_the_quantiles(law):
    lo, hi = law.interval(0.9)
    assert float(law.cdf(hi)) - float(law.cdf(lo)) == pytest.approx(0.9, abs=1e-12)
    assert law.median() == pytest.approx(float(law.ppf(0.5)))
    assert law.support() == (0.0, math.inf)
    with pytest.raises(ValueError, match="q"):
        law.ppf(1.5)


def test_every_method_keeps_the_shape_of_its_argument(law):
    x = np.ones((3, 4))
    assert law.cdf(x).shape == (3, 4) and law.pdf(x).shape == (3, 4) and law.ppf(0.5 * x).shape == (3, 4)
    assert law.rvs((2, 5), random_state=0).shape == (2, 5)


def test_warns_when_the_error_estimate_exceeds_tol():
    net = Network.constant(20, 2, 0.1, activation="tanh")
    with pytest.warns(SigdistWarning, match="error estimate"):
        law = sigdist.squared_norm_law(net, 1.0, tol=1e-9, method="lattice", lattice_size=256)
    assert law.error_estimate > 1e-9
    with warnings.catch_warnings():
        warnings.simplefilter("error", SigdistWarning)
        sigdist.squared_norm_law(Network.constant(20, 2, 0.1), 1.0, tol=1e-8)


# -- the Law contract ------------------------------------------------------------------------------

RELU = Network.constant(6, 1, 2 / 6)  # one relu layer from y0 = 1: z = (1/3) chi2_K, K ~ Bin(6, 1/2)
LINEAR = Network([Layer(6, 1 / 6, activation="linear")])  # from y0 = 2: z = (1/3) chi2_6, no atom


def relu_log_tail(t, upper):
    """Independent of sigdist: log P(z > t) or log P(z <= t) of one relu layer of width 6 from y0 = 1,
    a log-sum-exp of scipy's chi-square log tails over K ~ Bin(6, 1/2) (K = 0 is the atom)."""
    k = np.arange(7)
    log_w = special.gammaln(7) - special.gammaln(k + 1) - special.gammaln(7 - k) - 6 * math.log(2)
    terms = [log_w[0] + (-np.inf if upper else 0.0)]
    for kk in k[1:]:
        chi = stats.chi2(kk, scale=1 / 3)
        terms.append(log_w[kk] + (chi.logsf(t) if upper else chi.logcdf(t)))
    return float(special.logsumexp(terms))


def test_squared_norm_law_is_a_law():
    assert isinstance(sigdist.squared_norm_law(RELU, 1.0), sigdist.Law)
    assert isinstance(SquaredNormLaw(1.0, None), sigdist.Law)


def test_log_tails_keep_relative_accuracy_far_out():
    # one layer from a point: both tails are the closed form of eq. 7 (incomplete gamma functions,
    # ~1e-14 relative), so they must match scipy's log tails to that accuracy, 1e-300 included
    law = sigdist.squared_norm_law(RELU, 1.0)
    for t in (1e-30, 1e-5, 1.0, 30.0, 200.0):
        assert float(law.logsf(t)) == pytest.approx(relu_log_tail(t, True), rel=1e-12)
    for t in (1e-30, 1e-5, 1.0):
        assert float(law.logcdf(t)) == pytest.approx(relu_log_tail(t, False), rel=1e-12)
    # right of the bulk log P(z <= t) = log1p(-P(z > t)) ~ -P(z > t): not the log of a rounded 1
    for t in (30.0, 200.0):
        assert float(law.logcdf(t)) == pytest.approx(-math.exp(relu_log_tail(t, True)), rel=1e-12)
    # no atom (linear): the left tail is P(chi2_6 <= 3 t) ~ (3t)^3 / 48, far below 1e-200
    lin = sigdist.squared_norm_law(LINEAR, 2.0)
    ref = stats.chi2(6, scale=1 / 3)
    for t in (1e-70, 1e-5, 1.0):
        assert float(lin.logcdf(t)) == pytest.approx(float(ref.logcdf(t)), rel=1e-12)
        assert float(lin.logsf(t)) == pytest.approx(float(ref.logsf(t)), rel=1e-12)
    assert float(lin.logcdf(1e-70)) < -400
    assert float(lin.logsf(-1.0)) == 0.0 and float(lin.logcdf(-1.0)) == -math.inf
    assert math.isnan(float(lin.logsf(math.nan)))


def test_biased_second_layer_right_tail_is_exact_far_out():
    # two biased layers from a point: y = s0 S1 exactly, so P(z > t) is a quadrature of two closed forms
    # (sigdist.one_step), answered without the grid's warning down to 1e-250 and inverted by isf
    law = sigdist.squared_norm_law(Network.constant(3, 2, 0.5, sigma_b2=0.2), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SigdistWarning)
        for q in (1e-12, 1e-80, 1e-250):
            t = float(law.isf(q))
            assert float(law.sf(t)) == pytest.approx(q, rel=1e-11)
            assert float(law.logsf(t)) == pytest.approx(math.log(q), rel=1e-12)
        assert np.all(np.diff(law.sf(np.geomspace(10.0, 1e5, 40))) < 0)


def test_stats_are_the_exact_moments():
    # z = (1/3) chi2_6: mean 2, variance 4/3, skewness sqrt(8/6), excess kurtosis 12/6; the moments
    # come from the exact recursion, the central ones lose a few digits to cancellation
    law = sigdist.squared_norm_law(LINEAR, 2.0)
    mean, var, skew, kurt = law.stats("mvsk")
    np.testing.assert_allclose([mean, var, skew, kurt], [2.0, 4 / 3, math.sqrt(8 / 6), 2.0], rtol=1e-9)
    assert law.stats("m") == mean
    with pytest.raises(ValueError, match="moments"):
        law.stats("x")


def test_expect_on_the_law_nodes_matches_the_exact_moments(law):
    # the grid's right end is trimmed where the tail shares of E[z] and E[z^2] fall below the
    # layer's share of tol: the node sums are within tol of the exact moments
    for order in (1, 2):
        assert law.expect(lambda z: z**order) == pytest.approx(law.moment(order), rel=law.tol)
    assert law.expect() == pytest.approx(law.mean(), rel=law.tol)
    assert law.expect(lambda z: 1.0) == pytest.approx(1.0 - law.mass_lost, abs=1e-14)  # scalar func
    # over a range the integrand is cut: adaptive quadrature, to its own tolerance
    lo, hi = 0.5, 3.0
    assert law.expect(lambda z: np.ones_like(z), lb=lo, ub=hi) == pytest.approx(
        float(law.cdf(hi) - law.cdf(lo)), rel=law.tol)
    assert law.expect(lambda z: z, lb=lo, ub=hi, conditional=True) == pytest.approx(
        law.expect(lambda z: z, lb=lo, ub=hi) / float(law.cdf(hi) - law.cdf(lo)), rel=1e-12)


def test_entropy_exists_without_atom_only():
    law = sigdist.squared_norm_law(LINEAR, 2.0)
    # trapezoid rule on the grid: its nodes hold the law to its error estimate, log p is O(10) there
    assert law.entropy() == pytest.approx(float(stats.chi2(6, scale=1 / 3).entropy()), abs=100 * law.error_estimate)
    with pytest.raises(ValueError, match="atom"):
        sigdist.squared_norm_law(RELU, 1.0).entropy()


def test_interval_takes_each_end_from_its_own_tail(law):
    lo, hi = law.interval(0.9)
    assert float(law.cdf(lo)) == pytest.approx(0.05, abs=law.error_estimate)
    assert float(law.sf(hi)) == pytest.approx(0.05, abs=law.error_estimate)
    lo, hi = law.interval(1 - 1e-40)  # far right: solved from sf, not from 1 - q
    assert float(law.sf(hi)) == pytest.approx(5e-41, rel=1e-8)


def test_rvs_takes_every_kind_of_seed(law):
    a = law.rvs(500, random_state=7)
    np.testing.assert_array_equal(a, law.rvs(500, random_state=np.random.SeedSequence(7)))
    gen = np.random.default_rng(7)
    np.testing.assert_array_equal(a, law.rvs(500, random_state=gen))
    assert not np.array_equal(a, law.rvs(500, random_state=gen))  # a Generator's stream goes on
    assert law.rvs(3, random_state=None).shape == (3,)
    with pytest.raises(ValueError, match="random_state"):
        law.rvs(3, random_state=-1)
    torch = pytest.importorskip("torch")
    b = law.rvs(500, random_state=torch.Generator().manual_seed(5))
    np.testing.assert_array_equal(b, law.rvs(500, random_state=torch.Generator().manual_seed(5)))
    assert np.all(b >= 0)


def test_atom_only_law_answers_numpy_scalars():
    law = SquaredNormLaw(1.0, None)
    q = law.ppf(0.5)
    assert isinstance(q, np.floating) and not isinstance(q, np.ndarray) and q == 0.0
    assert isinstance(law.isf(0.5), np.floating)
    assert law.mean() == 0.0 and law.var() == 0.0 and law.interval(0.5) == (0.0, 0.0)
    assert law.rvs(4, random_state=0).tolist() == [0.0] * 4


def test_density_follows_the_tail_far_out_so_bounded_expectations_are_right():
    """Kesten: P(z > t) ~ C t^-alpha, so t pdf(t) / sf(t) -> alpha (sigdist.tail_index, an independent root)."""
    from sigdist.stationary import stationary_law, stationary_moments

    layer = Layer(10, 0.15, 0.1)
    law = stationary_law(layer)
    alpha = sigdist.tail_index(layer)
    x = np.array([1e8, 1e12])
    ratio = law.pdf(x) * x / law.sf(x) / alpha - 1
    # the correction to the power law falls like 1/x (1.7e-8 at 1e8): 1e-6 and 1e-9 leave room for the grid's error
    assert abs(ratio[0]) < 1e-6 and abs(ratio[1]) < 1e-9
    mean = stationary_moments(layer).first_moment
    assert law.expect(lb=1e-12) == pytest.approx(mean, rel=1e-8)  # was 56 for a mean of 2


def test_a_tail_point_that_lies_in_the_bulk_is_answered_by_the_grid():
    # He, width 100, 6 layers: cdf(0.135) ~ 3e-4 is below the threshold where the Mellin-Barnes tail takes
    # over, but its saddle point sits in the bulk (14.6 million nodes): that point is the grid's, not an error
    law = sigdist.squared_norm_law(Network.he([100] * 6), 1.0)
    x = np.array([0.135, 0.2])
    grid = law.continuous.cdf_u(np.log(x))
    assert np.allclose(law.cdf(x), grid, rtol=0.0, atol=law.error_estimate)
    assert np.all(law.pdf(x) > 0)


def test_a_quantile_whose_tail_route_is_silent_comes_from_the_grid():
    # the same law's left tail near its strip needs more Mellin-Barnes nodes than allowed: ppf reads the grid,
    # the inverse of the same cdf
    law = sigdist.squared_norm_law(Network.he([100] * 6), 1.0)
    q = np.array([3e-4, 1e-5])
    assert np.allclose(law.cdf(law.ppf(q)), q, rtol=1e-9, atol=0.0)
