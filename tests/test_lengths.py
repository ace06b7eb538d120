"""sigdist.lengths: exact FM1 / FM2 moments against closed forms, the operator, and Monte Carlo of real networks."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigdist import Layer, Network, ResidualNetwork, squared_norm_law
from sigdist import SigdistWarning
from sigdist.lengths import (KNOWN_INITIALIZERS, _layer_coefficients, _plain_recursion, corollary1_mean,
                             corollary2_bounds, empirical_variance, initializer_network, length_moments,
                             linear_readout_residual, residual_length_moments, standardized_fourth_moment,
                             theorem5_bounds, weight_variance_factor)
from sigdist.moments import squared_norm_moments
from sigdist.weights import TRUNCATED_NORMAL_VARIANCE_FACTOR

X0 = np.array([2.0, -0.3, 0.1, 0.5])  # uneven entries: sum x^4 far from |x|^4 / n_0


def mixed_net():
    return Network([Layer(3, 0.6, 0.2), Layer(5, 0.5, 0.1, weight_law="uniform"),
                    Layer(2, 0.4, 0.0, weight_law="truncated_normal"), Layer(4, 1.1, 0.3, weight_law="uniform")],
                   input_width=4)


def z_score(samples, exact):
    return (samples.mean() - exact) / (samples.std(ddof=1) / math.sqrt(len(samples)))


# -- closed forms and second routes --------------------------------------------------------------

def test_log_recursion_matches_the_plain_recursion():
    net = mixed_net()
    r = length_moments(net, X0)
    n, var, bias, kappa = _layer_coefficients(net.layers, None)
    y, q, _, v = _plain_recursion(n, var, bias, kappa, X0 @ X0, (X0 @ X0) ** 2, np.sum(X0 ** 4))
    np.testing.assert_allclose(r.mean, y / n, rtol=1e-12)
    np.testing.assert_allclose(r.second_moment, q / n ** 2, rtol=1e-12)
    np.testing.assert_allclose(r.var, v / n ** 2, rtol=1e-12)
    np.testing.assert_allclose(r.var, r.second_moment - r.mean ** 2, rtol=1e-12)


def test_gaussian_case_matches_the_moment_module():
    net = Network([Layer(3, 0.6, 0.2), Layer(5, 0.5, 0.1), Layer(7, 0.4, 0.0)], input_width=4)
    r = length_moments(net, 1.7)
    m1, m2 = squared_norm_moments(net, 1.7)
    n = np.array(net.widths, dtype=float)
    np.testing.assert_allclose(r.mean, m1 / n, rtol=1e-13)
    np.testing.assert_allclose(r.second_moment, m2 / n ** 2, rtol=1e-13)
    # only the norm matters for Gaussian weights: the vector and its squared norm agree
    x = np.array([1.0, 0.2, -0.9, 0.3]) * math.sqrt(1.7 / 1.94)
    np.testing.assert_allclose(length_moments(net, x).second_moment, r.second_moment, rtol=1e-13)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=2, max_size=30), st.floats(0.1, 10.0))
def test_he_second_moment_is_the_product_of_one_plus_five_over_n(widths, y0):
    r = length_moments(Network.he(widths), y0)
    m0 = y0 / widths[0]
    expected = m0 ** 2 * np.cumprod([1 + 5 / n for n in widths[1:]])
    np.testing.assert_allclose(r.second_moment, expected, rtol=1e-12)
    np.testing.assert_allclose(r.mean, m0, rtol=1e-12)


def test_moments_agree_with_the_operator_law():
    net = Network([Layer(6, 0.4, 0.1), Layer(9, 0.3, 0.05), Layer(5, 0.35, 0.0)], input_width=6)
    law = squared_norm_law(net, 2.0, tol=1e-10)
    r = length_moments(net, 2.0)
    nd = net.widths[-1]
    assert law.moment(1) / nd == pytest.approx(r.mean[-1], rel=1e-7)
    assert law.moment(2) / nd ** 2 == pytest.approx(r.second_moment[-1], rel=1e-7)


def test_empirical_variance_matches_the_pairwise_sum():
    net = mixed_net()
    r = length_moments(net, X0)
    d = net.depth
    pair = sum(r.cross_moment(i, j) for i in range(1, d + 1) for j in range(1, d + 1))
    brute = np.mean(r.second_moment) - pair / d ** 2
    assert r.empirical_variance() == pytest.approx(brute, rel=1e-12)
    assert empirical_variance(net, X0) == pytest.approx(brute, rel=1e-12)
    assert r.cross_moment(2, 2) == pytest.approx(r.second_moment[1], rel=1e-14)


def test_fourth_moments_of_the_weight_laws():
    from scipy import stats

    tn = stats.truncnorm(-2, 2)
    assert standardized_fourth_moment("truncated_normal") == pytest.approx(tn.moment(4) / tn.moment(2) ** 2, rel=1e-12)
    assert standardized_fourth_moment("uniform") == pytest.approx(stats.uniform(-1, 2).moment(4) * 9, rel=1e-12)
    assert standardized_fourth_moment(2.5) == 2.5
    with pytest.raises(ValueError, match="callable"):
        standardized_fourth_moment(lambda g, shape: None)


def test_non_gaussian_second_moment_depends_on_the_input_vector():
    net = Network([Layer(3, 0.5, 0.0, weight_law="uniform")], input_width=4)
    spread = np.full(4, 1.0)
    peaked = np.array([2.0, 0.0, 0.0, 0.0])  # same norm
    a, b = length_moments(net, spread), length_moments(net, peaked)
    assert a.mean[0] == pytest.approx(b.mean[0], rel=1e-14)
    # E[Y'^2] = n(n+5)/4 s^2 + n (kappa - 3)/2 sigma^4 sum x^4, sigma^2 = 0.5, |x|^2 = 4
    for x, r in ((spread, a), (peaked, b)):
        expected = (3 * 8 / 4 * (0.5 * 4) ** 2 + 3 * (1.8 - 3) / 2 * 0.25 * np.sum(x ** 4)) / 9
        assert r.second_moment[0] == pytest.approx(expected, rel=1e-13)
    with pytest.raises(ValueError, match="input vector"):
        length_moments(net, 4.0)


# -- Monte Carlo of real networks ----------------------------------------------------------------

def test_gaussian_moments_match_real_networks():
    pytest.importorskip("torch")
    from sigdist.montecarlo import simulate

    net = Network([Layer(3, 0.6, 0.2), Layer(5, 0.5, 0.1), Layer(4, 0.7, 0.0)], input_width=4)
    r = length_moments(net, X0)
    m = simulate(net, X0, 200_000, seed=11, device="cpu").squared_norms[:, :, 0] / np.array(net.widths)
    for j in range(3):
        assert abs(z_score(m[:, j], r.mean[j])) < 4
        assert abs(z_score(m[:, j] ** 2, r.second_moment[j])) < 4
    assert abs(z_score(m[:, 0] * m[:, 2], r.cross_moment(1, 3))) < 4
    emp = np.mean(m ** 2, axis=1) - np.mean(m, axis=1) ** 2
    assert abs(z_score(emp, r.empirical_variance())) < 4


@pytest.mark.parametrize("law", ["uniform", "truncated_normal"])
def test_non_gaussian_moments_match_real_networks(law):
    pytest.importorskip("torch")
    from sigdist.montecarlo import simulate

    net = Network([Layer(2, 0.8, 0.0, weight_law=law), Layer(3, 0.6, 0.1, weight_law=law),
                   Layer(2, 0.9, 0.0, weight_law=law)], input_width=4)
    r = length_moments(net, X0)
    m = simulate(net, X0, 300_000, seed=5, device="cpu", method="full").squared_norms[:, :, 0] / np.array(net.widths)
    as_gaussian = length_moments(net, X0, weight_law=3.0)  # same variances, kappa = 3: what a Gaussian formula says
    scale = np.array([TRUNCATED_NORMAL_VARIANCE_FACTOR if law == "truncated_normal" else 1.0])
    if law == "truncated_normal":
        as_gaussian = length_moments(Network([Layer(l.width, l.sigma_w2 * scale[0], l.sigma_b2) for l in net],
                                             input_width=4), X0)
    for j in range(3):
        assert abs(z_score(m[:, j], r.mean[j])) < 4
        assert abs(z_score(m[:, j] ** 2, r.second_moment[j])) < 4
    # the test has the power to see the fourth moment: the Gaussian formula is off by many standard errors
    assert abs(z_score(m[:, 0] ** 2, as_gaussian.second_moment[0])) > 8


def test_residual_moments_match_real_networks():
    pytest.importorskip("torch")
    from sigdist.montecarlo import simulate

    res = linear_readout_residual(4, [5], [1.0, 0.5, 0.8])
    r = residual_length_moments(res, input=X0)
    m = simulate(res, X0, 100_000, seed=3, device="cpu").squared_norms[:, :, 0] / 4
    for j in range(3):
        assert abs(z_score(m[:, j], r.mean[j])) < 4
        assert abs(z_score(m[:, j] ** 2, r.second_moment[j])) < 4
    emp = np.mean(m ** 2, axis=1) - np.mean(m, axis=1) ** 2
    assert abs(z_score(emp, r.empirical_variance())) < 4
    # He modules: E[M_L] = M_0 prod (1 + 2 eta^2), a sum of eta^2 in the exponent
    m0 = X0 @ X0 / 4
    np.testing.assert_allclose(r.mean, m0 * np.cumprod([3.0, 1.5, 1 + 2 * 0.64]), rtol=1e-12)


def test_relu_readout_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="cross term"):
        residual_length_moments(ResidualNetwork.uniform(5, [5], [0.5, 0.5]))


def test_smc_confirms_the_violated_upper_bound():
    # E[M_d^2] at depth 100, width 20: naive Monte Carlo sees only the typical runs; SMC weights the rare ones
    from sigdist.montecarlo import smc_moment

    net = Network.he([20] * 101)
    t = theorem5_bounds(net)
    smc = smc_moment(net, 20.0, power=2.0, n_particles=3000, n_replicates=8, seed=1)
    est, se = smc.estimate[-1] / 400, smc.standard_error[-1] / 400
    assert abs(est - t.exact[-1]) < 4 * se
    assert est - 4 * se > t.upper_gaussian[-1]  # the printed bound with C_1 = C_2 = 4 is below the truth


# -- the printed statements ----------------------------------------------------------------------

def test_theorem5_lower_bound_holds_and_upper_bounds_fail_for_wide_deep_nets():
    for n in (5, 20, 100, 1000):
        for d in (1, 10, 100, 1000):
            t = theorem5_bounds([n] * (d + 1))
            assert t.lower_holds.all()
            assert (t.C1, t.C2) == (2.0, 3.0)
    t = theorem5_bounds([100] * 201)
    assert not t.upper_gaussian_holds[-1]  # 4 exp(4 * 2) < 1.05^200
    assert t.log_exact[-1] == pytest.approx(200 * math.log(1.05), rel=1e-13)
    t = theorem5_bounds([100] * 51)
    assert t.upper_gaussian_holds[-1] and not t.upper_holds[-1]  # 2 exp(3 * 0.5) < 1.05^50
    assert theorem5_bounds([5] * 101).upper_gaussian_holds.all()  # narrow: log(2) < 4/5


def test_theorem5_refuses_networks_outside_definition_1():
    with pytest.raises(ValueError, match="2/fan-in"):
        theorem5_bounds(initializer_network("he_normal_truncated", [10] * 4))


def test_corollary1_printed_bias_term_lacks_one_half():
    net = Network.constant(10, 4, 0.2, 0.1)
    printed, exact = corollary1_mean(net)
    expected = np.array([1.0 + 0.1 / 2 * sum(1.0 ** k for k in range(j)) for j in range(1, 5)])
    np.testing.assert_allclose(exact, expected, rtol=1e-13)
    np.testing.assert_allclose(printed - 1.0, 2 * (exact - 1.0), rtol=1e-12)
    printed, exact = corollary1_mean(Network.constant(10, 4, 0.3))
    np.testing.assert_allclose(printed, exact, rtol=1e-13)


def test_corollary2_lower_bound_has_no_width_independent_constant():
    c_max = [corollary2_bounds([n] * 3).c_max for n in (10, 100, 1000, 10_000)]
    assert all(a > b for a, b in zip(c_max, c_max[1:]))
    assert c_max[-1] < 1e-2
    r = corollary2_bounds([10_000] * 3, c=0.05, C=5.0)
    assert r.lower > r.exact and r.upper > r.exact


def test_initializers():
    assert weight_variance_factor("he_normal", 50) == pytest.approx(0.04, rel=1e-15)
    assert weight_variance_factor("glorot_uniform", 30, 10) == pytest.approx(0.05, rel=1e-15)
    assert weight_variance_factor("he_normal_truncated", 50) == pytest.approx(0.04 * 0.7737413035499232, rel=1e-12)
    r = length_moments(initializer_network("he_normal_truncated", [100] * 101), np.ones(100))
    assert r.mean[-1] == pytest.approx(TRUNCATED_NORMAL_VARIANCE_FACTOR ** 100, rel=1e-12)  # 7e-12: FM1
    r = length_moments(initializer_network("he_uniform", [100] * 101), np.ones(100))
    assert r.mean[-1] == pytest.approx(1.0, rel=1e-12)
    for name in KNOWN_INITIALIZERS:
        assert initializer_network(name, [4, 6, 4]).depth == 2


def test_depth_ten_thousand_in_logs():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = length_moments([5] * 10_001)
    assert {str(w.message).split()[0] for w in caught if w.category is SigdistWarning} == {"second_moment", "var"}
    assert np.all(np.isfinite(r.log_second_moment)) and np.isinf(r.second_moment[-1])
    assert r.log_second_moment[-1] == pytest.approx(10_000 * math.log(2.0), rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = length_moments([200] * 10_001)  # 1.025^10000 = e^247 fits
    assert r.second_moment[-1] == pytest.approx(1.025 ** 10_000, rel=1e-10)


# -- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: length_moments([10, 0, 10]), r"widths\[1\].*\[1,"),
    (lambda: length_moments([10]), "depth >= 1"),
    (lambda: length_moments([10, 10], initializer="xavier"), "known: he_normal"),
    (lambda: weight_variance_factor("kaiming", 10), "known:"),
    (lambda: weight_variance_factor("glorot_normal", 10), "fan_out"),
    (lambda: length_moments([10, 10], -1.0), "squared norm"),
    (lambda: length_moments([10, 10], np.ones(3)), "input width 10"),
    (lambda: length_moments([10, 10], weight_law=0.5), "number >= 1"),
    (lambda: linear_readout_residual(5, [5], [1.0, -0.1]), r"etas\[1\].*>= 0"),
    (lambda: linear_readout_residual(5, [5], []), "depth >= 1"),
    (lambda: residual_length_moments(linear_readout_residual(5, [5], [1.0]), etas=[1.0, 2.0]), "one scale"),
    (lambda: length_moments(Network([Layer(4, 0.5, activation="tanh")], input_width=4)), "relu"),
    (lambda: corollary2_bounds([10, 10, 10], c=-1.0), "c must be"),
])
def test_bad_input_is_refused_with_a_message(call, match):
    with pytest.raises(ValueError, match=match):
        call()
