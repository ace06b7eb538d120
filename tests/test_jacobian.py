"""sigdist.jacobian: the exact law of |J u|^2, the reduced sampler, exact moments, Jacobian spectra.

Monte Carlo references are real torch networks differentiated by torch's autograd (forward mode), not
sigdist's own sampler; tolerances are z-scores against standard errors and KS p-values at fixed seeds.
"""

import math

import numpy as np
import pytest
from scipy import stats

import sigdist
from sigdist import Layer, Network
from sigdist import jacobian as jac


def _ks_positive(samples, law):
    """KS p-value of the positive samples against the law conditioned on z > 0, and the atom's z-score."""
    atom = law.atom
    pos = samples[samples > 0]
    p = stats.kstest(pos, lambda z: (law.cdf(z) - atom) / (1.0 - atom)).pvalue
    frac = np.mean(samples == 0)
    z_atom = (frac - atom) / math.sqrt(atom * (1 - atom) / samples.size)
    return p, z_atom


BIASED = Network([Layer(5, 2 / 5, 0.3), Layer(4, 0.6, 0.5, "leaky_relu", negative_slope=0.2), Layer(6, 0.5, 0.1)],
                 input_width=5)


# -- the exact law against real networks ---------------------------------------------------------------

@pytest.mark.parametrize("u_cos", [0.0, 0.7])
def test_jvp_law_of_he_relu_matches_autograd_of_real_networks_for_any_direction(u_cos):
    pytest.importorskip("torch")
    net = Network.he([5, 5, 5, 5])
    law = jac.jvp_law(net, u_cos=u_cos)
    y, u2 = jac.jvp_monte_carlo(net, 20_000, u_cos=u_cos, seed=11, device="cpu")
    p, z_atom = _ks_positive(u2, law)
    assert p > 1e-3 and abs(z_atom) < 4
    # and |J u|^2 has the law of |x_L|^2 / |x_0|^2 (the observation)
    p, z_atom = _ks_positive(y, law)
    assert p > 1e-3 and abs(z_atom) < 4


def test_jvp_law_with_biases_and_leaky_layers_is_the_zero_bias_squared_norm_law():
    pytest.importorskip("torch")
    law = jac.jvp_law(BIASED, y0=2.0, u_cos=0.5)
    _, u2 = jac.jvp_monte_carlo(BIASED, 20_000, y0=2.0, u_cos=0.5, seed=12, device="cpu")
    p, z_atom = _ks_positive(u2, law)
    assert p > 1e-3 and abs(z_atom) < 4


def test_jvp_law_test_rejects_the_law_that_keeps_the_biases():
    # power: the biased network's own squared-norm law is a different law, and the same test rejects it
    pytest.importorskip("torch")
    wrong = sigdist.squared_norm_law(BIASED, 1.0)
    _, u2 = jac.jvp_monte_carlo(BIASED, 20_000, y0=2.0, u_cos=0.5, seed=12, device="cpu")
    p = stats.kstest(u2[u2 > 0], lambda z: (wrong.cdf(z) - wrong.atom) / (1 - wrong.atom)).pvalue
    assert p < 1e-6


def test_reduced_sampler_matches_the_exact_law():
    law = jac.jvp_law(BIASED)
    s = jac.jvp_samples(BIASED, 2.0, u_cos=0.5, n_networks=20_000, seed=3)
    p, z_atom = _ks_positive(s.u2[:, -1], law)
    assert p > 1e-3 and abs(z_atom) < 4


def test_reduced_sampler_matches_autograd_for_tanh_with_bias_and_oblique_direction():
    pytest.importorskip("torch")
    net = Network([Layer(4, 1.5 / 4, 0.1, "tanh")] * 3, input_width=4)
    y, u2 = jac.jvp_monte_carlo(net, 20_000, y0=3.0, u_cos=0.6, seed=4, device="cpu")
    s = jac.jvp_samples(net, 3.0, u_cos=0.6, n_networks=20_000, seed=5)
    se = math.hypot(u2.std() / math.sqrt(u2.size), s.u2_mean_se[-1])
    assert abs(u2.mean() - s.u2_mean[-1]) < 4 * se
    assert stats.ks_2samp(u2, s.u2[:, -1]).pvalue > 1e-3
    assert stats.ks_2samp(y, s.y[:, -1]).pvalue > 1e-3


def test_jvp_law_is_independent_of_the_direction_but_the_tanh_chain_is_not():
    # relu: E|Ju|^4 is the same for u along x and u orthogonal to x; tanh (with bias): it is not
    m_par = jac.jvp_moments(BIASED, u_cos=1.0)
    m_orth = jac.jvp_moments(BIASED, u_cos=0.0)
    assert np.array_equal(m_par.second_moment, m_orth.second_moment)
    net = Network([Layer(3, 1.0, 0.5, "tanh")] * 2, input_width=3)
    a = jac.jvp_moments(net, 4.0, u_cos=1.0, method="samples", n_networks=40_000, seed=1)
    b = jac.jvp_moments(net, 4.0, u_cos=0.0, method="samples", n_networks=40_000, seed=2)
    assert not a.exact
    gap = abs(a.first_moment[-1] - b.first_moment[-1])
    assert gap > 6 * math.hypot(a.first_moment_se[-1], b.first_moment_se[-1])


# -- moments ----------------------------------------------------------------------------------------------

def test_exact_jvp_moments_are_the_relu_closed_form_and_match_the_sampler():
    m = jac.jvp_moments(BIASED)
    closed = np.cumprod([0.4 * 5 / 2, 0.6 * 4 * (1 + 0.04) / 2, 0.5 * 6 / 2])
    np.testing.assert_allclose(m.first_moment, closed, rtol=1e-12)
    s = jac.jvp_samples(BIASED, 2.0, u_cos=0.5, n_networks=40_000, seed=8)
    z1 = (s.u2_mean - m.first_moment) / s.u2_mean_se
    z2 = (s.u2_second_moment - m.second_moment) / s.u2_second_moment_se
    assert np.all(np.abs(z1) < 4) and np.all(np.abs(z2) < 4)
    ds = m.to_xarray()
    assert list(ds["first_moment"].dims) == ["layer"]


def test_spectral_moments_second_moment_contains_the_fourth_moment_of_one_direction():
    # (1/N0) E tr((J^T J)^2) = E|Ju|^4 + (N0 - 1) E<Ju1, Ju2>^2: at N0 = 1 it is E|Ju|^4
    net = Network([Layer(7, 0.3, 0.2), Layer(5, 0.4, 0.0, "leaky_relu", negative_slope=0.3)], input_width=1)
    sm = jac.spectral_moments(net)
    jm = jac.jvp_moments(net)
    np.testing.assert_allclose(sm.second_moment, jm.second_moment, rtol=1e-12)
    np.testing.assert_allclose(sm.first_moment, jm.first_moment, rtol=1e-12)


@pytest.mark.parametrize("network", [
    Network.he([6, 6, 6, 6]),
    Network([Layer(5, 0.3, 0.4, "leaky_relu", negative_slope=0.5), Layer(7, 0.5, 0.1, "abs"),
             Layer(4, 0.2, 0.0, "linear")], input_width=6),
    Network.gsm([6, 6, 6, 6]),
], ids=["he", "leaky-abs-linear-bias", "gsm"])
def test_exact_spectral_moments_match_real_jacobians(network):
    pytest.importorskip("torch")
    exact = jac.spectral_moments(network)
    mc = jac.jacobian_spectrum(network, 20_000, y0=1.5, seed=21, device="cpu")
    assert abs(mc.first_moment - exact.first_moment[-1]) < 4 * mc.first_moment_se
    assert abs(mc.second_moment - exact.second_moment[-1]) < 4 * mc.second_moment_se


def test_finite_width_spectral_moments_approach_free_probability_like_one_over_width():
    from sigdist.free_probability import free_jacobian_law

    depth = 4
    m2_inf = free_jacobian_law(depth, "relu").exact_moments()[1]
    gaps = [jac.spectral_moments(Network.he([n] * (depth + 1))).second_moment[-1] - m2_inf for n in (200, 400)]
    assert gaps[0] > 0 and gaps[0] / gaps[1] == pytest.approx(2.0, rel=0.02)
    lin = free_jacobian_law(depth)
    gaps = [jac.spectral_moments(Network.constant(n, depth, 1 / n, activation="linear")).second_moment[-1]
            - lin.exact_moments()[1] for n in (200, 400)]
    assert gaps[0] / gaps[1] == pytest.approx(2.0, rel=0.02)


def test_monte_carlo_spectrum_moments_converge_to_free_probability_at_rate_one_over_width():
    pytest.importorskip("torch")
    from sigdist.free_probability import free_jacobian_law

    m2_inf = free_jacobian_law(3, "relu").exact_moments()[1]
    for n in (16, 32):
        mc = jac.jacobian_spectrum(Network.he([n] * 4), 2000, seed=n, device="cpu")
        exact = jac.spectral_moments(Network.he([n] * 4)).second_moment[-1]
        assert abs(mc.second_moment - exact) < 4 * mc.second_moment_se
        assert exact - m2_inf > 0


# -- the paper's isometry claim ---------------------------------------------------------------------------

def test_looks_linear_jacobian_has_singular_values_sqrt2_on_the_signal_subspace_and_zero_elsewhere():
    pytest.importorskip("torch")
    spec = jac.jacobian_spectrum(Network.looks_linear([8] * 11), 20, seed=3, device="cpu")
    s = spec.squared_singular_values
    np.testing.assert_allclose(s[:, :4], 2.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(s[:, 4:], 0.0, rtol=0, atol=1e-12)
    exact = jac.spectral_moments(Network.looks_linear([8] * 11))
    assert spec.first_moment == pytest.approx(exact.first_moment[-1], abs=1e-12)
    assert spec.second_moment == pytest.approx(exact.second_moment[-1], abs=1e-12)


def test_he_jacobian_is_far_from_isometric():
    pytest.importorskip("torch")
    spec = jac.jacobian_spectrum(Network.he([8] * 11), 200, seed=3, device="cpu")
    assert spec.second_moment - spec.first_moment ** 2 > 5.0
    ds = spec.to_xarray()
    assert ds["squared_singular_values"].dims == ("network", "eigen")


# -- bad input -------------------------------------------------------------------------------------------

def test_jvp_law_refuses_tanh_and_sharing_by_name():
    with pytest.raises(ValueError, match="jvp_samples"):
        jac.jvp_law(Network([Layer(4, 1.0, 0.0, "tanh")], input_width=4))
    with pytest.raises(ValueError, match="sharing"):
        jac.jvp_law(Network.gsm([4, 4]))


@pytest.mark.parametrize("u_cos", [1.5, "a", True, float("nan")])
def test_bad_u_cos_is_refused(u_cos):
    with pytest.raises(ValueError, match="u_cos"):
        jac.jvp_law([4, 4], u_cos=u_cos)


def test_spectral_moments_refuse_tanh_and_unknown_input_width():
    with pytest.raises(ValueError, match="jacobian_spectrum"):
        jac.spectral_moments(Network([Layer(4, 1.0, 0.0, "tanh")], input_width=4))
    with pytest.raises(ValueError, match="input_width"):
        jac.spectral_moments(Network([Layer(4, 1.0)]))


# -- the subcommand (wired into sigdist.cli by its owner) --------------------------------------------------

def _cli(argv):
    import argparse

    from sigdist import jacobian_cli

    ap = argparse.ArgumentParser(prog="sigdist")
    jacobian_cli.add_parser(ap.add_subparsers(dest="command"))
    return jacobian_cli.run(ap.parse_args(argv))


def test_jacobian_subcommand_writes_exact_and_monte_carlo_moments_as_json(tmp_path):
    pytest.importorskip("torch")
    import json

    path = tmp_path / "out.json"
    assert _cli(["jacobian", "--width", "8", "--depth", "3", "--init", "looks_linear", "--networks", "5",
                 "--device", "cpu", "--json", str(path)]) == 0
    rows = {r["moment"]: r for r in json.loads(path.read_text())["rows"]}
    assert rows["m1"]["monte_carlo"] == pytest.approx(1.0, abs=1e-12)
    assert rows["m2"]["exact_N"] == 2.0 and rows["m2"]["infinite_N"] == 2.0
    csv = tmp_path / "out.csv"
    assert _cli(["jacobian", "--width", "8", "--depth", "3", "--init", "looks_linear", "--networks", "5",
                 "--device", "cpu", "--csv", str(csv)]) == 0
    table = np.genfromtxt(csv, delimiter=",", names=True, dtype=None, encoding="utf-8")
    assert list(table["moment"]) == ["m1", "m2"] and table["exact_N"][1] == 2.0


def test_jacobian_subcommand_refuses_odd_width_for_sharing_by_option(capsys):
    with pytest.raises(SystemExit):
        _cli(["jacobian", "--width", "5", "--init", "gsm"])
    assert "--width" in capsys.readouterr().err


@pytest.mark.parametrize("activation", ["tanh", "gelu"])
@pytest.mark.parametrize("u_cos", [0.0, 0.8])
def test_one_layer_moments_of_smooth_activations_are_exact_and_match_the_sampler(activation, u_cos):
    net = Network([Layer(4, 0.7, 0.3, activation)], input_width=4)
    m = jac.jvp_moments(net, 2.0, u_cos=u_cos)
    assert m.exact and m.first_moment_se is None
    s = jac.jvp_samples(net, 2.0, u_cos=u_cos, n_networks=40_000, seed=7)
    assert abs(s.u2_mean[0] - m.first_moment[0]) < 4 * s.u2_mean_se[0]
    assert abs(s.u2_second_moment[0] - m.second_moment[0]) < 4 * s.u2_second_moment_se[0]


def test_one_layer_tanh_moment_is_the_closed_form_for_u_orthogonal_to_x():
    # u ⟂ x: h and g independent, E|u'|^2 = N sigma_w2 E[sech^4(sqrt(s) z)]
    layer = Layer(3, 0.5, 0.2, "tanh")
    from scipy import integrate

    s = 0.5 * 2.0 + 0.2
    ref = 3 * 0.5 * integrate.quad(lambda z: np.cosh(math.sqrt(s) * z) ** -4 * np.exp(-z * z / 2)
                                   / math.sqrt(2 * math.pi), -40, 40, epsabs=1e-14, limit=200)[0]
    m = jac.jvp_moments(Network([layer], input_width=3), 2.0, u_cos=0.0)
    assert m.first_moment[0] == pytest.approx(ref, rel=1e-12)
