"""Exact Mellin eigenvalues (Prop. 4, eq. 8 corrected) against quadrature of the kernel and Monte Carlo."""

import math

import numpy as np
import pytest
from scipy import integrate, special

import sigdist
from sigdist import Layer, Network
from sigdist.kernel import kernel_pdf
from sigdist.spectrum import critical_window, log_mellin_eigenvalue, mellin_domain, mellin_eigenvalue, tail_index


def printed_eq8(m, width, sigma_w2):
    """Eq. 8 exactly as printed: 0.5^(N-m-1) sigma_w^(-2m-2) sum_k C(N,k) Gamma(k/2-m-1)/Gamma(k/2)."""
    k = np.arange(1, width + 1)
    terms = special.gammaln(width + 1) - special.gammaln(k + 1) - special.gammaln(width - k + 1) \
        + special.gammaln(k / 2 - m - 1) - special.gammaln(k / 2)
    return math.exp((width - m - 1) * math.log(0.5) - (m + 1) * math.log(sigma_w2) + special.logsumexp(terms))


@pytest.mark.parametrize("width, sigma_w2", [(1, 1.0), (5, 0.3), (20, 0.1)])
@pytest.mark.parametrize("m", [-3.0, -2.0, -1.3, -0.8])
def test_eigenvalue_matches_quadrature_of_the_kernel(width, sigma_w2, m):
    # (T f_m)(z) = int k(y, z) y^m dy must equal lambda_m z^m at every z
    layer = Layer(width, sigma_w2)
    lam = mellin_eigenvalue(layer, m)
    for z in (0.3, 2.0):
        f = lambda u: float(kernel_pdf(layer, math.exp(u), z)) * math.exp((m + 1) * u)  # noqa: E731 (y = e^u)
        value = sum(integrate.quad(f, a, b, epsabs=0, epsrel=1e-12, limit=400)[0]
                    for a, b in ((-300, -10), (-10, 0), (0, 10), (10, 300)))
        assert value / z**m == pytest.approx(lam, rel=1e-9)


def test_eigenvalue_matches_monte_carlo():
    # lambda_m = E[(sigma_w2 S)^(-(m+1)); S > 0] with S = chi2_K, K ~ Bin(N, 1/2); finite variance for m < -3/4
    rng = np.random.default_rng(0)
    width, sigma_w2, m = 8, 0.25, -1.7
    k = rng.binomial(width, 0.5, 400_000)
    s = np.where(k > 0, rng.chisquare(np.maximum(k, 1)), 0.0)
    x = np.where(k > 0, (sigma_w2 * np.where(k > 0, s, 1.0)) ** (-(m + 1)), 0.0)
    z = (x.mean() - mellin_eigenvalue(Layer(width, sigma_w2), m)) / (x.std(ddof=1) / math.sqrt(x.size))
    assert abs(z) < 4


def test_printed_eq8_is_off_by_four_to_the_power_m_plus_one():
    layer = Layer(12, 0.2)
    for m in (-3.0, -2.0, -1.5, -1.0):
        assert printed_eq8(m, 12, 0.2) == pytest.approx(4.0 ** (m + 1) * mellin_eigenvalue(layer, m), rel=1e-12)


def relu_log_eigenvalue_slope_at_minus_one(width, sigma_w2):
    """d log(lambda_m) / dm at m = -1, independently of sigdist: -E[log(sigma_w2 chi2_K) | K > 0]
    with K ~ Bin(N, 1/2) and E[log chi2_k] = digamma(k/2) + log 2."""
    k = np.arange(1, width + 1)
    log_w = special.gammaln(width + 1) - special.gammaln(k + 1) - special.gammaln(width - k + 1) - width * math.log(2)
    w = np.exp(log_w - special.logsumexp(log_w))
    return -float(w @ (special.digamma(k / 2) + math.log(2) + math.log(sigma_w2)))


def test_he_critical_exponent_is_minus_two_for_every_width():
    for width in (1, 2, 5, 10, 50, 200, 1000):
        layer = Layer(width, 2 / width)
        assert mellin_eigenvalue(layer, -2.0) == pytest.approx(1.0, rel=1e-13)  # = sigma_w2 E[S] (eq. 5)
        window = critical_window(layer)
        m_crit, m_upper = window.m_crit, window.m_upper
        # roundoff in log(lambda) (~1e-13) over its slope at the root (~5 / (2N)) bounds the accuracy
        assert m_crit == pytest.approx(-2.0, abs=1e-12 * width)
        # the window passes -1, where log(lambda) = log(1 - 2^-N) < 0. log(lambda) is convex with slope
        # s > 0 at -1, so the root lies in (-1, -1 - log(1 - 2^-N) / s]; the computed root may stray from
        # it by the roundoff of log(lambda) over s. That roundoff is a few ulps of the largest log-term
        # summed (log Gamma(k/2) and log binom(N, k), up to log Gamma(N/2 + 1) + N log 2). Once 2^-N
        # is below it (N >= 50 or so) the root is -1 to within that accuracy.
        roundoff = 16 * np.finfo(float).eps * (special.gammaln(width / 2 + 1) + width * math.log(2))
        slope = relu_log_eigenvalue_slope_at_minus_one(width, 2 / width)
        assert -1.0 - roundoff / slope < m_upper <= -1.0 + (-math.log1p(-2.0**-width) + roundoff) / slope
        if 2.0**-width > roundoff:
            assert m_upper > -1.0
        fit = -3.2559793 - 1.6207083 * width  # the paper's fit: wrong
        assert abs(fit - m_crit) > 1.5
    assert mellin_eigenvalue(Layer(7, 0.9), -1.0) == pytest.approx(1 - 2.0**-7, rel=1e-14)


def test_window_is_where_the_eigenvalue_is_below_one():
    layer = Layer(10, 0.5)
    window = critical_window(layer)
    lo, hi = window.m_crit, window.m_upper
    inside = np.linspace(lo, hi, 12)[1:-1]
    assert np.all(mellin_eigenvalue(layer, inside) < 1)
    assert mellin_eigenvalue(layer, lo) == pytest.approx(1, abs=1e-12)
    assert mellin_eigenvalue(layer, hi) == pytest.approx(1, abs=1e-12)
    assert np.all(mellin_eigenvalue(layer, np.array([lo - 0.1, min(hi + 0.01, -0.501)])) > 1)


def test_network_eigenvalues_multiply():
    net = Network([Layer(10, 0.3), Layer(4, 0.7), Layer(30, 0.05)])
    m = np.array([-2.5, -1.2, -0.9])
    np.testing.assert_allclose(mellin_eigenvalue(net, m),
                               np.prod([mellin_eigenvalue(layer, m) for layer in net], axis=0), rtol=1e-13)
    assert mellin_domain(net) == -0.5
    assert mellin_domain(Layer(6, 1.0, activation="linear")) == 2.0


def test_log_eigenvalue_stays_finite_where_the_eigenvalue_overflows():
    layer = Layer(2000, 2 / 2000)
    logs = log_mellin_eigenvalue(layer, [-400.0, -2000.0])
    assert np.all(np.isfinite(logs)) and logs[1] > 709
    assert math.isinf(mellin_eigenvalue(layer, -2000.0))


def test_tail_index_is_the_root_of_lambda_equal_one():
    assert tail_index(Layer(20, 2 / 20, 0.1)) == pytest.approx(1.0, rel=1e-10)  # He: alpha = 1
    layer = Layer(10, 0.05)
    alpha = tail_index(layer)
    assert mellin_eigenvalue(layer, -1 - alpha) == pytest.approx(1.0, rel=1e-10)
    # a supercritical layer: only the regeneration at z = 0 (probability 2^-N) gives a stationary law
    tiny = tail_index(Layer(100, 0.05))
    assert 0 < tiny < 1e-25
    with pytest.raises(ValueError, match="no finite tail index"):
        tail_index(Layer(10, 0.5, activation="linear"))


@pytest.mark.parametrize("m, match", [(-0.5, "diverges"), (0.3, "diverges"), (1j, "real"), (math.nan, "finite")])
def test_m_outside_the_domain_is_refused(m, match):
    with pytest.raises(ValueError, match=match):
        mellin_eigenvalue(Layer(5, 1.0), m)


def test_bias_and_other_activations_are_refused():
    with pytest.raises(ValueError, match="sigma_b2 = 0"):
        mellin_eigenvalue(Layer(5, 1.0, 0.1), -2.0)
    with pytest.raises(ValueError, match="relu, linear or abs"):
        mellin_eigenvalue(Layer(5, 1.0, activation="tanh"), -2.0)


# -- discrete spectrum, stationary laws, mixing ------------------------------------------------------

from sigdist import SigdistWarning, TransitionOperator  # noqa: E402
from sigdist.grid import LogGrid
from sigdist.stationary import discrete_eigen, mixing_depth, stationary_law, stationary_moments  # noqa: E402


@pytest.mark.parametrize("layer", [Layer(10, 0.05, 0.1), Layer(50, 0.03, 0.05), Layer(6, 0.2, 0.3),
                                   Layer(4, 0.3, 0.2)])
def test_stationary_moments_match_the_fixed_point(layer):
    law = stationary_law(layer)
    moments = stationary_moments(layer)
    m1, m2 = moments.first_moment, moments.second_moment
    assert law.atom == pytest.approx(2.0**-layer.width * 1, rel=1e-6)  # P(S = 0) at stationarity
    assert law.mean() == pytest.approx(m1, rel=1e-8)
    assert law.moment(2) == pytest.approx(m2, rel=1e-8)
    assert law.mass_lost < 1e-9 and law.perron_eigenvalue == pytest.approx(1.0, abs=1e-9)


def test_stationary_law_is_invariant_and_matches_the_chain():
    layer = Layer(8, 0.1, 0.2)
    law = stationary_law(layer)
    # one more layer leaves it unchanged
    again = TransitionOperator(layer, grid=law.grid).apply(law)
    np.testing.assert_allclose(again.continuous.values, law.continuous.values, rtol=1e-7, atol=1e-12)
    # and a long reduced chain (burn-in 200 layers) samples it
    rng = np.random.default_rng(0)
    z = np.ones(20000)
    for _ in range(200):
        s = 0.1 * z + 0.2
        z = np.sum(np.maximum(np.sqrt(s)[:, None] * rng.standard_normal((z.size, 8)), 0) ** 2, axis=1)
    from sigdist.montecarlo import compare

    assert compare(law, z).passes()


def test_infinite_moments_are_reported_as_inf_and_the_tail_has_the_kesten_slope():
    layer = Layer(10, 0.2, 0.1)  # He-critical: alpha = 1, E[z] = inf
    law = stationary_law(layer)
    assert math.isinf(stationary_moments(layer).first_moment)
    assert math.isinf(law.mean()) and math.isinf(law.var())
    z = np.exp(np.array([9.0, 11.0, 13.0]))
    slopes = np.diff(np.log(law.sf(z))) / np.diff(np.log(z))
    np.testing.assert_allclose(slopes, -tail_index(layer), atol=2e-3)
    layer2 = Layer(6, 0.2, 0.3)
    law2 = stationary_law(layer2)
    z = np.exp(np.array([8.0, 10.0, 12.0]))
    np.testing.assert_allclose(np.diff(np.log(law2.sf(z))) / np.diff(np.log(z)), -tail_index(layer2), atol=2e-2)


def test_no_bias_means_the_atom_is_the_only_stationary_law():
    law = stationary_law(Layer(10, 0.2))
    assert law.atom == 1.0 and law.mean() == 0.0


def test_discrete_spectrum_contains_the_exact_moment_eigenvalues():
    # E[z' | z] = sigma_w2 E[S] z + sigma_b2 E[S]: sigma_w2 E[S] and sigma_w2^2 E[S^2] are eigenvalues
    layer = Layer(10, 0.05, 0.1)
    op = TransitionOperator(layer)
    grid = stationary_law(op).grid
    vals = discrete_eigen(op, k=4, grid=grid).eigenvalues
    assert vals[0].real == pytest.approx(1.0, abs=1e-9)
    assert vals[1].real == pytest.approx(0.05 * 5, rel=1e-8)
    assert vals[2].real == pytest.approx(0.05**2 * 10 * 15 / 4, rel=1e-6)


def test_mixing_depth_follows_the_spectral_gap():
    layer = Layer(10, 0.12, 0.1)
    result = mixing_depth(layer, 1e-9)
    rate, distances = result.spectral_rate, result.distances
    assert result.depth == distances.size
    assert rate == pytest.approx(0.6, rel=1e-6)  # sigma_w2 E[S]
    assert distances[-1] <= 1e-9 < distances[-2]
    # the distance decays at the spectral rate once the faster modes have died out
    # (below ~1e-7 the distance meets the accuracy of the stationary vector itself)
    ratios = distances[1:] / distances[:-1]
    window = (distances[:-1] < 1e-3) & (distances[:-1] > 1e-7)
    assert window.sum() >= 5
    np.testing.assert_allclose(ratios[window], rate, rtol=2e-2)
    with pytest.raises(ValueError, match="sigma_b2"):
        mixing_depth(Layer(10, 0.15), 1e-3)


def test_a_grid_too_coarse_for_tol_warns_with_the_spacing():
    op = TransitionOperator(Layer(200, 0.01, 0.1), tol=1e-10)
    with pytest.warns(SigdistWarning, match="grid spacing 0.5"):
        discrete_eigen(op, k=2, grid=LogGrid(-10.0, 0.5, 60))


def test_a_cluster_below_the_perron_eigenvalue_does_not_stall_the_stationary_law():
    law = stationary_law(Layer(2, 0.5, 0.5))
    assert law.perron_eigenvalue == pytest.approx(1.0, abs=1e-9)


def test_a_window_far_below_minus_one_is_found():
    layer = Layer(200, 1e-3)
    m_crit = critical_window(layer).m_crit
    assert m_crit == pytest.approx(-1 - tail_index(layer), rel=1e-10) and m_crit < -1000


def test_tiny_binomial_weights_set_the_tail_index_of_wide_layers():
    wide = Layer(5000, 1e-6)
    assert log_mellin_eigenvalue(wide, -1 - tail_index(wide)) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="underflows"):
        tail_index(Layer(5000, 10.0))


def test_mixing_depth_refuses_a_start_off_the_stationary_grid():
    with pytest.raises(ValueError, match="y0"):
        mixing_depth(Layer(10, 0.1, 0.1), y0=1e12)


# -- one spec: every spectrum function reads what sigdist.as_network takes ---------------------------

def test_eigenvalues_window_and_domain_read_every_network_spec():
    layer = Layer(10, 0.2)
    m = np.array([-2.5, -1.2])
    expected = mellin_eigenvalue(layer, m) ** 2
    for spec in (Network([layer, layer]), [layer, layer]):
        np.testing.assert_allclose(mellin_eigenvalue(spec, m), expected, rtol=1e-14)
        np.testing.assert_allclose(log_mellin_eigenvalue(spec, m), 2 * log_mellin_eigenvalue(layer, m), rtol=1e-14)
        assert mellin_domain(spec) == mellin_domain(layer)
    # widths [N_0, N_1, N_2] mean He relu layers: lambda_{-2} = sigma_w2 E[S] = N_l / N_{l-1} per layer
    # (eq. 5), so N_2 / N_0 for the network; with equal widths the window starts at -2
    assert mellin_eigenvalue([7, 10, 20], -2.0) == pytest.approx(20 / 7, rel=1e-13)
    assert critical_window([10, 10, 10]).m_crit == pytest.approx(-2.0, abs=1e-11)


def test_stationary_analyses_read_every_spec_of_identical_layers():
    layer = Layer(8, 0.1, 0.2)
    net = Network.constant(8, 3, 0.1, 0.2)
    alpha = tail_index(layer)
    assert tail_index(net) == alpha and tail_index([layer, layer]) == alpha
    assert stationary_moments(net) == stationary_moments(layer)
    law = stationary_law(net)
    assert law.mean() == pytest.approx(stationary_moments(layer).first_moment, rel=1e-8)
    assert mixing_depth(net, 1e-3).depth == mixing_depth(layer, 1e-3).depth


def test_stationary_analyses_refuse_layers_that_differ():
    net = Network([Layer(8, 0.1, 0.2), Layer(9, 0.1, 0.2)])
    for call in (tail_index, stationary_moments, stationary_law, mixing_depth):
        with pytest.raises(ValueError, match="identical layers"):
            call(net)
    with pytest.raises(ValueError, match="network"):
        tail_index("not a network")


def test_spectrum_results_are_results_with_labelled_arrays():
    op = TransitionOperator(Layer(10, 0.05, 0.1))
    spectrum = discrete_eigen(op, k=3, grid=stationary_law(op).grid)
    assert isinstance(spectrum, sigdist.Result)
    data = spectrum.to_xarray()
    assert data["eigenvalues"].dims == ("eigen",) and data["eigenvectors"].dims == ("state", "eigen")
    mixing = mixing_depth(Layer(10, 0.12, 0.1), 1e-3)
    assert isinstance(mixing, sigdist.Result) and mixing.to_xarray()["distances"].dims == ("layer",)
    assert len(repr(mixing).splitlines()) < 10
    window = critical_window(Layer(10, 0.2))
    assert isinstance(window, sigdist.Result) and float(window.to_xarray()["m_crit"]) == window.m_crit
    assert isinstance(stationary_moments(Layer(10, 0.05, 0.1)), sigdist.Result)
    with pytest.raises(AttributeError):
        mixing.depth = 3  # frozen: fields are set by the constructor only


def test_discrete_eigen_reads_a_network_and_chooses_the_stationary_grid():
    from sigdist.stationary import discrete_eigen, stationary_law

    layer = Layer(8, 0.15, 0.1)
    spectrum = discrete_eigen(layer, k=3)
    law = stationary_law(layer)
    # the same operator on the same grid: its leading eigenvalue is the stationary law's Perron value
    assert abs(spectrum.eigenvalues[0] - law.perron_eigenvalue) <= 1e-12
    assert spectrum.grid.size == law.grid.size
