"""sigdist.lengths: exact length moments M_j = |act_j|^2 / n_j against closed forms, a plain-float recursion, the
operator's law and Monte Carlo of real networks.

Tolerances: the exact routes agree to float64 rounding accumulated over a few layers (rtol 1e-12 ~ 10^4 ulps); the
operator's law is discretised at tol=1e-10 on its CDF, its first two moments carry the grid's truncation (1e-7);
Monte Carlo means are z-scores against their standard error at a fixed seed (|z| < 4: 6e-5 two-sided per check).
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigdist import Layer, Network, SigdistWarning, squared_norm_law
from sigdist.lengths import LengthMoments, _layer_coefficients, _plain_recursion, empirical_variance, length_moments
from sigdist import squared_norm_moments
from sigdist.weights import WeightLaw

X0 = np.array([2.0, -0.3, 0.1, 0.5])  # uneven entries: sum x^4 far from |x|^4 / n_0
LAW_METHODS = {"pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf", "rvs", "moment", "mean", "var", "std",
               "median", "interval", "stats", "expect", "support", "entropy"}


def mixed_net():
    return Network([Layer(3, 0.6, 0.2), Layer(5, 0.5, 0.1, weight_law="uniform"),
                    Layer(2, 0.4, 0.0, weight_law="truncated_normal"), Layer(4, 1.1, 0.3, weight_law="uniform")],
                   input_width=4)


def z_score(samples, exact):
    return (samples.mean() - exact) / (samples.std(ddof=1) / math.sqrt(len(samples)))


# -- closed forms and second routes --------------------------------------------------------------

def test_log_recursion_matches_the_plain_recursion():
    net = mixed_net()
    r = length_moments(net, x0=X0)
    n, var, bias, kappa = _layer_coefficients(net.layers, None)
    y, q, _, v = _plain_recursion(n, var, bias, kappa, X0 @ X0, (X0 @ X0) ** 2, np.sum(X0 ** 4))
    np.testing.assert_allclose(r.length_mean, y / n, rtol=1e-12)
    np.testing.assert_allclose(r.length_second_moment, q / n ** 2, rtol=1e-12)
    np.testing.assert_allclose(r.length_variance, v / n ** 2, rtol=1e-12)
    np.testing.assert_allclose(r.length_variance, r.length_second_moment - r.length_mean ** 2, rtol=1e-12)


def test_gaussian_case_matches_the_moment_module():
    net = Network([Layer(3, 0.6, 0.2), Layer(5, 0.5, 0.1), Layer(7, 0.4, 0.0)], input_width=4)
    r = length_moments(net, 1.7)
    exact = squared_norm_moments(net, 1.7)
    m1, m2 = exact.first_moment, exact.second_moment
    n = np.array(net.widths, dtype=float)
    np.testing.assert_allclose(r.length_mean, m1 / n, rtol=1e-13)
    np.testing.assert_allclose(r.length_second_moment, m2 / n ** 2, rtol=1e-13)
    # only the norm matters for Gaussian weights: the vector and its squared norm agree
    x = np.array([1.0, 0.2, -0.9, 0.3]) * math.sqrt(1.7 / 1.94)
    np.testing.assert_allclose(length_moments(net, x0=x).length_second_moment, r.length_second_moment, rtol=1e-13)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=2, max_size=30), st.floats(0.1, 10.0))
def test_he_second_moment_is_the_product_of_one_plus_five_over_n(widths, y0):
    r = length_moments(Network.he(widths), y0)
    m0 = y0 / widths[0]
    expected = m0 ** 2 * np.cumprod([1 + 5 / n for n in widths[1:]])
    np.testing.assert_allclose(r.length_second_moment, expected, rtol=1e-12)
    np.testing.assert_allclose(r.length_mean, m0, rtol=1e-12)


def test_every_network_spec_gives_the_same_moments():
    he = length_moments(Network.he([6, 6, 6]))
    for spec in ([6, 6, 6], list(Network.he([6, 6, 6]).layers)):
        other = length_moments(spec, 6.0)  # a list of Layers has no input width: M_0 = 1 needs y0 = n_0
        np.testing.assert_array_equal(other.length_second_moment, he.length_second_moment)
    one = length_moments(Layer(6, 1 / 3), 6.0)
    assert one.length_second_moment[0] == he.length_second_moment[0]


def test_moments_agree_with_the_operator_law():
    net = Network([Layer(6, 0.4, 0.1), Layer(9, 0.3, 0.05), Layer(5, 0.35, 0.0)], input_width=6)
    law = squared_norm_law(net, 2.0, tol=1e-10)
    r = length_moments(net, 2.0)
    nd = net.widths[-1]
    assert law.moment(1) / nd == pytest.approx(r.length_mean[-1], rel=1e-7)
    assert law.moment(2) / nd ** 2 == pytest.approx(r.length_second_moment[-1], rel=1e-7)


def test_empirical_variance_matches_the_pairwise_sum():
    net = mixed_net()
    r = length_moments(net, x0=X0)
    d = net.depth
    pair = sum(r.cross_moment(i, j) for i in range(1, d + 1) for j in range(1, d + 1))
    brute = np.mean(r.length_second_moment) - pair / d ** 2
    assert r.empirical_variance() == pytest.approx(brute, rel=1e-12)
    assert empirical_variance(net, x0=X0) == pytest.approx(brute, rel=1e-12)
    assert r.log_empirical_variance() == pytest.approx(math.log(brute), rel=1e-12)
    assert r.cross_moment(2, 2) == pytest.approx(r.length_second_moment[1], rel=1e-14)


def test_moments_use_the_kurtosis_of_each_weight_law():
    from scipy import stats

    tn = stats.truncnorm(-2, 2)
    for law, kappa in (("gaussian", 3.0), ("uniform", stats.uniform(-1, 2).moment(4) * 9),
                       ("truncated_normal", tn.moment(4) / tn.moment(2) ** 2)):
        r = length_moments(Network([Layer(3, 0.5, weight_law=law)], input_width=4), x0=X0)
        assert r.weight_kurtosis[0] == pytest.approx(kappa, rel=1e-12)


def test_a_weight_law_of_given_kurtosis_enters_the_closed_form():
    # E[Y'^2] = n(n+5)/4 s^2 + n (kappa - 3)/2 sigma^4 sum x^4 for one layer, s = sigma^2 |x|^2
    law = WeightLaw("custom", 1.0, 2.5, None, lambda *args: None)
    r = length_moments(Network([Layer(3, 0.5, weight_law=law)], input_width=4), x0=X0)
    s = 0.5 * (X0 @ X0)
    expected = (3 * 8 / 4 * s ** 2 + 3 * (2.5 - 3) / 2 * 0.25 * np.sum(X0 ** 4)) / 9
    assert r.length_second_moment[0] == pytest.approx(expected, rel=1e-13)


def test_weight_law_override_reads_the_registry():
    net = Network([Layer(3, 0.6, 0.2, weight_law="uniform"), Layer(5, 0.5, 0.1)], input_width=4)
    gaussian = Network([Layer(3, 0.6, 0.2), Layer(5, 0.5, 0.1)], input_width=4)
    np.testing.assert_array_equal(length_moments(net, 1.3, weight_law="gaussian").length_second_moment,
                                  length_moments(gaussian, 1.3).length_second_moment)


def test_a_callable_weight_sampler_is_refused_for_its_unknown_fourth_moment():
    net = Network([Layer(3, 0.5, weight_law=lambda g, shape: None)], input_width=4)
    with pytest.raises(ValueError, match="fourth moment"):
        length_moments(net, x0=X0)


def test_non_gaussian_second_moment_depends_on_the_input_vector():
    net = Network([Layer(3, 0.5, 0.0, weight_law="uniform")], input_width=4)
    spread = np.full(4, 1.0)
    peaked = np.array([2.0, 0.0, 0.0, 0.0])  # same norm
    a, b = length_moments(net, x0=spread), length_moments(net, x0=peaked)
    assert a.length_mean[0] == pytest.approx(b.length_mean[0], rel=1e-14)
    # E[Y'^2] = n(n+5)/4 s^2 + n (kappa - 3)/2 sigma^4 sum x^4, sigma^2 = 0.5, |x|^2 = 4
    for x, r in ((spread, a), (peaked, b)):
        expected = (3 * 8 / 4 * (0.5 * 4) ** 2 + 3 * (1.8 - 3) / 2 * 0.25 * np.sum(x ** 4)) / 9
        assert r.length_second_moment[0] == pytest.approx(expected, rel=1e-13)
    with pytest.raises(ValueError, match="x0=<the input vector>"):
        length_moments(net, 4.0)


def test_depth_ten_thousand_in_logs():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = length_moments([5] * 10_001)
    assert {str(w.message).split()[0] for w in caught if w.category is SigdistWarning} == {
        "length_second_moment", "length_variance"}
    assert np.all(np.isfinite(r.log_length_second_moment)) and np.isinf(r.length_second_moment[-1])
    assert r.log_length_second_moment[-1] == pytest.approx(10_000 * math.log(2.0), rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = length_moments([200] * 10_001)  # 1.025^10000 = e^247 fits
    assert r.length_second_moment[-1] == pytest.approx(1.025 ** 10_000, rel=1e-10)


# -- the result ----------------------------------------------------------------------------------

def test_result_is_a_short_labelled_record_not_a_law():
    r = length_moments([10] * 201)
    assert isinstance(r, LengthMoments)
    assert not LAW_METHODS & set(LengthMoments.__dataclass_fields__)
    assert len(repr(r).splitlines()) <= 15
    ds = r.to_xarray()
    assert ds["length_second_moment"].dims == ("layer",)
    assert list(ds["layer"].values[[0, -1]]) == [1, 200]
    np.testing.assert_array_equal(ds["length_mean"].values, r.length_mean)
    assert float(ds["input_mean"]) == 1.0


# -- Monte Carlo of real networks ----------------------------------------------------------------

def test_gaussian_moments_match_real_networks():
    pytest.importorskip("torch")
    from sigdist.montecarlo import simulate

    net = Network([Layer(3, 0.6, 0.2), Layer(5, 0.5, 0.1), Layer(4, 0.7, 0.0)], input_width=4)
    r = length_moments(net, x0=X0)
    m = simulate(net, X0, 200_000, seed=11, device="cpu").squared_norms[:, :, 0] / np.array(net.widths)
    for j in range(3):
        assert abs(z_score(m[:, j], r.length_mean[j])) < 4
        assert abs(z_score(m[:, j] ** 2, r.length_second_moment[j])) < 4
    assert abs(z_score(m[:, 0] * m[:, 2], r.cross_moment(1, 3))) < 4
    emp = np.mean(m ** 2, axis=1) - np.mean(m, axis=1) ** 2
    assert abs(z_score(emp, r.empirical_variance())) < 4


@pytest.mark.parametrize("law", ["uniform", "truncated_normal"])
def test_non_gaussian_moments_match_real_networks(law):
    pytest.importorskip("torch")
    from sigdist.montecarlo import simulate

    net = Network([Layer(2, 0.8, 0.0, weight_law=law), Layer(3, 0.6, 0.1, weight_law=law),
                   Layer(2, 0.9, 0.0, weight_law=law)], input_width=4)
    r = length_moments(net, x0=X0)
    m = simulate(net, X0, 300_000, seed=5, device="cpu", method="full").squared_norms[:, :, 0] / np.array(net.widths)
    # same actual variances, Gaussian weights (kappa = 3): what a Gaussian formula says
    as_gaussian = length_moments(Network([Layer(l.width, l.weight_variance, l.sigma_b2) for l in net],
                                         input_width=4), x0=X0)
    for j in range(3):
        assert abs(z_score(m[:, j], r.length_mean[j])) < 4
        assert abs(z_score(m[:, j] ** 2, r.length_second_moment[j])) < 4
    # the test has the power to see the fourth moment: the Gaussian formula is off by many standard errors
    assert abs(z_score(m[:, 0] ** 2, as_gaussian.length_second_moment[0])) > 8


# -- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: length_moments([10, 0, 10]), r"widths\[1\].*\[1,"),
    (lambda: length_moments([10]), "length >= 2"),
    (lambda: length_moments("10x10"), "network must be"),
    (lambda: length_moments([10, 10], -1.0), r"y0 \(the squared input norm"),
    (lambda: length_moments([10, 10], np.ones(10)), "pass the input vector as x0"),
    (lambda: length_moments([10, 10], 10.0, x0=np.ones(10)), "not both"),
    (lambda: length_moments([10, 10], x0=np.ones(3)), "input width 10"),
    (lambda: length_moments([Layer(10, 0.2)]), "input_width"),
    (lambda: length_moments([10, 10], weight_law=0.5), "weight_law must be"),
    (lambda: length_moments(Network([Layer(4, 0.5, activation="tanh")], input_width=4)), "relu"),
    (lambda: length_moments(Network([Layer(4, 0.5, gamma=0.5)], input_width=4)), "skip connection"),
    (lambda: length_moments([4, 4, 4]).cross_moment(0, 1), r"i must be an integer layer in \[1, 2\]"),
])
def test_bad_input_is_refused_with_a_message(call, match):
    with pytest.raises(ValueError, match=match):
        call()
