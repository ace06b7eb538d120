"""Laws of |x_l|^2 against independent references: mpmath Gil-Pelaez / nested quadrature, closed forms."""

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, stats

import sigdist
from sigdist import Layer, Network, SigdistWarning, TransitionOperator
from sigdist.grid import LogGrid
from sigdist.kernel import kernel_cdf, kernel_pdf

CASES = ["he200_L9", "alt_he_fanin", "alt_own_width", "bias_N50_L2", "small_N3_L3", "bias_N5_L2",
         "single_N20", "he1000_L3"]


def network_of(case):
    return Network([Layer(int(n), sw2, sb2) for n, sw2, sb2 in case["layers"]])


@pytest.mark.parametrize("name", CASES)
def test_cdf_matches_independent_reference_to_1e8(reference_cdf, name):
    case = reference_cdf["cases"][name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", SigdistWarning)  # the law must meet tol without warning
        law = sigdist.squared_norm_law(network_of(case), case["y0"], tol=1e-8)
    x = np.array(case["x"])
    err_cdf = np.max(np.abs(law.cdf(x) - np.array(case["cdf"])))
    err_sf = np.max(np.abs(law.sf(x) - np.array(case["sf"])))
    assert err_cdf <= 1e-8 and err_sf <= 1e-8
    # the error estimate is an honest bound on the error actually made
    assert max(err_cdf, err_sf) <= law.error_estimate <= 1e-8
    # far tails keep relative accuracy: sf down to 1e-9 and cdf - atom down to 1e-7
    sf, cdf = np.array(case["sf"]), np.array(case["cdf"]) - case["atom"]
    right, left = sf < 1e-3, cdf < 1e-3
    assert np.max(np.abs(law.sf(x[right]) / sf[right] - 1)) < 2e-3
    assert np.max(np.abs((law.cdf(x[left]) - law.atom) / cdf[left] - 1)) < 2e-3
    assert law.atom == pytest.approx(case["atom"], rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("name", CASES)
def test_moments_match_the_exact_recursions(reference_cdf, name):
    case = reference_cdf["cases"][name]
    net = network_of(case)
    law = sigdist.squared_norm_law(net, case["y0"])
    exact = sigdist.squared_norm_moments(net, case["y0"])
    mean, second = exact.first_moment, exact.second_moment
    assert mean[-1] == pytest.approx(case["mean"], rel=1e-14)  # recursion vs the reference's own recursion
    assert second[-1] == pytest.approx(case["second_moment"], rel=1e-14)
    assert law.mean() == pytest.approx(mean[-1], rel=1e-10)
    assert law.moment(2) == pytest.approx(second[-1], rel=1e-10)


def test_he_second_moment_grows_by_one_plus_five_over_n():
    # sigma_w2 = 2 / N_l keeps E|x_l|^2 (eq. 6); with fan-in He it scales by N_l / N_{l-1}
    net = Network([Layer(n, 2 / n) for n in (10, 20, 40)])
    exact = sigdist.squared_norm_moments(net, 3.0)
    mean, second = exact.first_moment, exact.second_moment
    np.testing.assert_allclose(mean, 3.0)
    he_mean = sigdist.squared_norm_moments(Network.he([7, 10, 20, 40]), 3.0).first_moment
    np.testing.assert_allclose(he_mean, 3.0 * np.array([10, 20, 40]) / 7)
    # log-space recursion: a few roundings of log E per layer, each worth eps * |log E|
    np.testing.assert_allclose(second, 9.0 * np.cumprod([1 + 5 / 10, 1 + 5 / 20, 1 + 5 / 40]), rtol=1e-14)


def test_exact_route_converges_geometrically_in_the_grid_spacing(reference_cdf):
    # the trapezoid rule on analytic integrands: the error falls faster than any power of h
    case = reference_cdf["cases"]["alt_own_width"]
    net = network_of(case)
    x, ref = np.array(case["x"]), np.array(case["cdf"])
    errors, spacings = [], []
    for tol in (1e-3, 1e-5, 1e-7, 1e-9):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SigdistWarning)
            law = sigdist.squared_norm_law(net, 1.0, tol=tol)
        errors.append(np.max(np.abs(law.cdf(x) - ref)))
        spacings.append(law.grid.spacing)
        assert errors[-1] <= tol
    assert all(b < a for a, b in zip(errors, errors[1:]))
    # geometric: log(error) ~ -c / h, so error ratios grow as h shrinks (a power law would keep them fixed)
    assert errors[-2] / errors[-1] > 10 and errors[0] / errors[1] > 10
    assert spacings[-1] / spacings[0] > 0.4  # a factor ~1e6 in accuracy for less than 2.5x the points


def test_linear_layers_follow_the_scaled_chi2_product():
    # linear: z_L = y0 * prod_l sigma_w2_l * chi2_{N_l}; one layer is a scaled chi2, two layers by quadrature
    layer = Layer(12, 0.25, activation="linear")
    law = sigdist.squared_norm_law(Network([layer]), 2.0)
    z = law.ppf(np.linspace(0.001, 0.999, 50))
    np.testing.assert_allclose(law.cdf(z), stats.chi2(12, scale=0.5).cdf(z), atol=1e-10)
    assert law.atom == 0.0
    law2 = sigdist.squared_norm_law(Network([layer, Layer(5, 0.1, activation="linear")]), 2.0)
    for q in (0.05, 0.5, 0.95):
        x = float(law2.ppf(q))
        ref = integrate.quad(lambda u: stats.chi2(12, scale=0.5).pdf(u) * stats.chi2(5, scale=0.1 * u).cdf(x),
                             0, np.inf, epsabs=1e-13, limit=200)[0]
        assert float(law2.cdf(x)) == pytest.approx(ref, abs=1e-10)


def test_bias_route_matches_nested_quadrature_of_the_kernel():
    layer = Layer(8, 0.7, 0.3)
    net = Network([layer, layer])
    law = sigdist.squared_norm_law(net, 0.5)
    first = sigdist.squared_norm_law(Network([layer]), 0.5)
    for q in (0.01, 0.3, 0.7, 0.99):
        x = float(law.ppf(q))
        body = integrate.quad(lambda y: float(kernel_pdf(layer, 0.5, y) * kernel_cdf(layer, y, x)),
                              0, np.inf, epsabs=1e-13, limit=400)[0]
        ref = body + first.atom * float(kernel_cdf(layer, 0.0, x))
        assert float(law.cdf(x)) == pytest.approx(ref, abs=1e-10)


def test_input_law_gives_the_same_answer_as_the_layers_before_it():
    net = Network.constant(30, 4, 2 / 30)
    full = sigdist.squared_norm_law(net, 1.0)
    head = sigdist.squared_norm_law(net[:2], 1.0)
    tail = sigdist.squared_norm_law(net[2:], input_law=head)
    z = full.ppf(np.linspace(0.01, 0.99, 30))
    np.testing.assert_allclose(tail.cdf(z), full.cdf(z), atol=1e-10)


def test_scipy_input_law_matches_quadrature():
    layer = Layer(20, 0.1)
    gamma = stats.gamma(3.0, scale=0.5)
    law = sigdist.squared_norm_law(Network([layer]), input_law=gamma)
    assert law.mean() == pytest.approx(0.1 * 1.5 * 10, rel=1e-9)  # E[z] = sigma_w2 E[y] N / 2
    for q in (0.05, 0.5, 0.95):
        x = float(law.ppf(q))
        ref = integrate.quad(lambda y: gamma.pdf(y) * float(kernel_cdf(layer, y, x)), 0, np.inf,
                             epsabs=1e-13, limit=200)[0]
        assert float(law.cdf(x)) == pytest.approx(ref, abs=1e-9)


def test_fixed_grid_matrix_agrees_with_the_adaptive_operator():
    layer = Layer(40, 2 / 40)
    grid = LogGrid(-8.0, 0.05, 220)
    T = TransitionOperator(layer, grid=grid)
    M = T.matrix()
    assert M.shape == (220, 220)
    # Toeplitz (a Mellin convolution): constant along diagonals
    np.testing.assert_allclose(np.diag(M, -3), M[3, 0])
    first = T.apply(1.0)
    second = T.apply(first)
    np.testing.assert_allclose(second.continuous.values, M @ first.continuous.values)
    adaptive = sigdist.squared_norm_law(Network([layer, layer]), 1.0)
    z = adaptive.ppf(np.linspace(0.01, 0.99, 25))
    np.testing.assert_allclose(second.cdf(z), adaptive.cdf(z), atol=1e-8)
    assert second.mass_lost < 1e-9
    # a grid too narrow for the law: the lost mass is reported and warned about
    narrow = TransitionOperator(layer, grid=LogGrid(-1.0, 0.05, 40))
    law = narrow.apply(narrow.apply(1.0))
    assert law.mass_lost > 1e-3 and law.error_estimate >= law.mass_lost
    with pytest.warns(SigdistWarning, match="mass lost"):
        sigdist.squared_norm_law(Network([layer]), 1.0, input_law=law)
    composed = (T @ T).matrix()
    np.testing.assert_allclose(composed, M @ M)


def test_bias_layer_matrix_carries_the_kernel_mass():
    layer = Layer(20, 0.05, 0.02)
    grid = LogGrid(-14.0, 0.04, 450)  # wide enough below for the rare small K
    M = TransitionOperator(layer, grid=grid).matrix()
    assert M.shape == (450, 450) and np.all(M >= 0)
    # applied to a narrow density of log y around 0, the result is the kernel at y = 1
    u = grid.points
    q = stats.norm(0.0, 0.15).pdf(u)
    out = M @ q
    mass = 0.04 * out.sum()
    assert mass == pytest.approx(1 - 2.0**-20, abs=1e-6)


def test_zero_input_gives_the_atom_without_bias_and_the_bias_law_with_it():
    net = Network.constant(5, 3, 1.0)
    law = sigdist.squared_norm_law(net, 0.0)
    assert law.atom == 1.0 and law.mean() == 0.0 and float(law.cdf(0.0)) == 1.0
    biased = sigdist.squared_norm_law(Network.constant(5, 2, 1.0, 0.5), 0.0)
    assert biased.atom == pytest.approx(2.0**-5, rel=1e-15)
    assert biased.mean() == pytest.approx(sigdist.squared_norm_moments(Network.constant(5, 2, 1.0, 0.5), 0.0).first_moment[-1],
                                          rel=1e-10)


def test_huge_and_tiny_input_norms_scale_exactly():
    net = Network.constant(50, 3, 2 / 50)
    base = sigdist.squared_norm_law(net, 1.0)
    for y0 in (1e-300, 1e300):
        law = sigdist.squared_norm_law(net, y0)
        assert math.isfinite(law.mean())
        assert law.mean() == pytest.approx(y0, rel=1e-10)
        np.testing.assert_allclose(law.cdf(y0 * np.array([0.5, 1.0, 2.0])), base.cdf([0.5, 1.0, 2.0]), atol=1e-12)


def test_wide_layers_keep_the_exact_mean_and_variance():
    law = sigdist.squared_norm_law(Network.constant(10000, 2, 2 / 10000), 1.0)
    assert law.mean() == pytest.approx(1.0, rel=1e-10)
    assert law.var() == pytest.approx((1 + 5 / 10000) ** 2 - 1, rel=1e-8)


def test_input_law_with_a_jump_warns_and_carries_its_error():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SigdistWarning)
        law = sigdist.squared_norm_law(Network.constant(20, 2, 0.1), input_law=stats.uniform(0, 2), tol=1e-8)
    messages = [str(w.message) for w in caught]
    assert any("not resolved" in m for m in messages) and any("exceeds tol" in m for m in messages)
    # the jump is not resolved spectrally: the law says so in its error estimate (the input's mass error
    # on its largest affordable grid is ~1e-3 and depends on the spacing the layers ask for)
    assert 1e-6 < law.error_estimate < 1e-2
    assert abs(law.mean() - 0.1 * 1.0 * 10 * 0.1 * 10) <= 4 * law.error_estimate


def test_heavy_tailed_input_law_keeps_its_second_moment():
    gamma_like = stats.lognorm(1.0)
    law = sigdist.squared_norm_law(Network.constant(20, 1, 0.1), input_law=gamma_like)
    e2 = 0.1**2 * float(gamma_like.moment(2)) * 20 * 25 / 4  # E[z^2] = sigma_w^4 E[y^2] N(N+5)/4
    assert law.moment(2) == pytest.approx(e2, rel=1e-7)


def test_laws_answer_infinite_nan_and_array_arguments():
    law = sigdist.squared_norm_law(Network.constant(10, 2, 0.2), 1.0)
    assert float(law.sf(np.inf)) == 0.0 and float(law.cdf(np.inf)) == pytest.approx(1 - law.mass_lost)
    assert np.isnan(law.pdf(np.nan))
    assert np.ndim(law.cdf(1.0)) == 0 and np.ndim(law.ppf(0.5)) == 0
    lo, hi = law.interval(np.array([0.5, 0.9]))
    assert lo.shape == (2,) and np.all(hi > lo)
    with pytest.raises(ValueError, match="order"):
        law.moment(np.nan)
