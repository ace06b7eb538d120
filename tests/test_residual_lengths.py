"""sigdist.residual_lengths: exact length moments of residual nets with linear read-outs (Hanin & Rolnick 2018,
§3.4) against the closed form and Monte Carlo of real networks (z-scores at a fixed seed, |z| < 4)."""

import math

import numpy as np
import pytest

from sigdist import Network, ResidualNetwork
from sigdist.residual_lengths import ResidualLengthMoments, linear_readout_residual, residual_length_moments

X0 = np.array([2.0, -0.3, 0.1, 0.5])


def z_score(samples, exact):
    return (samples.mean() - exact) / (samples.std(ddof=1) / math.sqrt(len(samples)))


def test_he_modules_grow_with_the_sum_of_squared_scales():
    # He modules: E[M_L] = M_0 prod (1 + 2 eta^2), a sum of eta^2 in the exponent
    r = residual_length_moments(linear_readout_residual(4, [5], [1.0, 0.5, 0.8]), x0=X0)
    m0 = X0 @ X0 / 4
    np.testing.assert_allclose(r.length_mean, m0 * np.cumprod([3.0, 1.5, 1 + 2 * 0.64]), rtol=1e-12)
    assert r.input_mean == pytest.approx(m0, rel=1e-15)
    y0 = residual_length_moments(linear_readout_residual(4, [5], [1.0, 0.5, 0.8]), X0 @ X0)
    np.testing.assert_array_equal(y0.length_second_moment, r.length_second_moment)


def test_residual_moments_match_real_networks():
    pytest.importorskip("torch")
    from sigdist.montecarlo import simulate

    res = linear_readout_residual(4, [5], [1.0, 0.5, 0.8])
    r = residual_length_moments(res, x0=X0)
    m = simulate(res, X0, 100_000, seed=3, device="cpu").squared_norms[:, :, 0] / 4
    for j in range(3):
        assert abs(z_score(m[:, j], r.length_mean[j])) < 4
        assert abs(z_score(m[:, j] ** 2, r.length_second_moment[j])) < 4
    emp = np.mean(m ** 2, axis=1) - np.mean(m, axis=1) ** 2
    assert abs(z_score(emp, r.empirical_variance())) < 4


@pytest.mark.parametrize("width, hidden, etas", [(5, [5], [1.0]), (4, [5], [1.0, 0.5, 0.8]), (30, [7, 3], [0.3] * 6)])
def test_length_variance_is_the_second_moment_less_the_squared_mean(width, hidden, etas):
    # Var[M] = E[M^2] - (E M)^2 exactly; the variance recursion once used 2n + 4 for c - a^2's 4
    # (width 5, one module, eta = 1: 12.8 instead of 17.8 - 9 = 8.8; Monte Carlo of 4e5 networks: 8.78)
    r = residual_length_moments(linear_readout_residual(width, hidden, etas), float(width))
    np.testing.assert_allclose(r.length_variance, r.length_second_moment - r.length_mean ** 2, rtol=1e-12)


def test_length_variance_matches_real_networks():
    pytest.importorskip("torch")
    from sigdist.montecarlo import simulate

    res = linear_readout_residual(5, [5], [1.0])
    r = residual_length_moments(res, x0=np.ones(5))
    m = simulate(res, np.ones(5), 200_000, seed=5, device="cpu").squared_norms[:, -1, 0] / 5
    # the sample variance's standard error from the fourth central moment
    d = m - m.mean()
    se = math.sqrt((np.mean(d ** 4) - np.mean(d ** 2) ** 2) / len(m))
    assert abs((np.var(m, ddof=1) - r.length_variance[-1]) / se) < 4


def test_relu_readout_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="cross term"):
        residual_length_moments(ResidualNetwork.uniform(5, [5], [0.5, 0.5]))


def test_result_is_labelled_by_module():
    r = residual_length_moments(linear_readout_residual(5, [5], [0.5] * 6))
    assert isinstance(r, ResidualLengthMoments) and r.depth == 6
    assert r.sum_eta == pytest.approx(3.0) and r.sum_eta_squared == pytest.approx(1.5)
    ds = r.to_xarray()
    assert ds["length_mean"].dims == ("layer",) and list(ds["layer"].values) == [1, 2, 3, 4, 5, 6]
    assert len(repr(r).splitlines()) <= 15


@pytest.mark.parametrize("call, match", [
    (lambda: linear_readout_residual(5, [5], [1.0, -0.1]), r"etas\[1\].*>= 0"),
    (lambda: linear_readout_residual(5, [5], []), "depth >= 1"),
    (lambda: linear_readout_residual(5, [0], [1.0]), r"hidden\[0\]"),
    (lambda: residual_length_moments(Network.he([5, 5])), "ResidualNetwork"),
    (lambda: residual_length_moments(linear_readout_residual(5, [5], [1.0]), -1.0), "y0"),
    (lambda: residual_length_moments(linear_readout_residual(5, [5], [1.0]), x0=np.ones(4)), "input width 5"),
])
def test_bad_input_is_refused_with_a_message(call, match):
    with pytest.raises(ValueError, match=match):
        call()
