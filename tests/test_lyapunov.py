"""Lyapunov spectra of random matrix products (Daneshmand et al. 2020, Lemma 3) against the Gaussian closed form."""

import math

import numpy as np
import pytest
from scipy import stats
from scipy.special import polygamma

from sigdist import Layer, Network
from sigdist.lyapunov import LyapunovResult, gaussian_lyapunov_exponents, lyapunov_spectrum


def _linear(width, sigma_w2=1.0, **kwargs):
    return Layer(width, sigma_w2, activation="linear", **kwargs)


def test_gaussian_lyapunov_spectrum_matches_the_closed_form():
    d, steps, samples = 6, 400, 16
    res = lyapunov_spectrum(_linear(d), steps, n_networks=samples, seed=1)
    exact = gaussian_lyapunov_exponents(_linear(d))
    z = (res.exponents - exact) / res.exponents_se
    assert np.all(np.abs(z) < 4), z
    # the QR recursion makes each log R_ii an independent 1/2 log chi^2_{d-i+1}: the s.e. is known exactly, and
    # the estimated s.e. of 16 products is about sqrt(chi^2_15 / 15) times it (a sum of 400 logs is near normal);
    # the d ratios are independent: each within its 1 - 0.01 / d interval, all six with probability 0.99
    exact_se = 0.5 * np.sqrt(polygamma(1, (d - np.arange(d)) / 2.0) / (steps * samples))
    lo, hi = (math.sqrt(stats.chi2.ppf(q, samples - 1) / (samples - 1)) for q in (0.005 / d, 1 - 0.005 / d))
    assert np.all((res.exponents_se / exact_se > lo) & (res.exponents_se / exact_se < hi)), res.exponents_se / exact_se
    assert gaussian_lyapunov_exponents(_linear(1))[0] == pytest.approx(-(np.euler_gamma + math.log(2)) / 2, rel=1e-14)


def test_weight_variance_shifts_every_exponent_by_half_its_log():
    a = lyapunov_spectrum(_linear(5), 50, n_networks=4, seed=3)
    b = lyapunov_spectrum(_linear(5, 4.0), 50, n_networks=4, seed=3)
    np.testing.assert_allclose(b.exponents, a.exponents + math.log(2.0), rtol=1e-10)
    np.testing.assert_allclose(gaussian_lyapunov_exponents(_linear(5, 4.0)),
                               gaussian_lyapunov_exponents(_linear(5)) + math.log(2.0), rtol=1e-14)


def test_residual_products_still_collapse():
    # Lemma 3: with I + gamma W the top Lyapunov gap stays positive, so B_l X / |B_l| tends to rank one
    res = lyapunov_spectrum(_linear(8, gamma=0.5), 300, k=2, n_networks=8, seed=2)
    gap = res.samples[:, 0] - res.samples[:, 1]
    assert gap.mean() / (gap.std(ddof=1) / math.sqrt(8)) > 4
    uni = lyapunov_spectrum(_linear(8, gamma=0.5, weight_law="uniform"), 300, k=2, n_networks=8, seed=2)
    assert np.all(uni.exponents[0] > uni.exponents[1])


def test_result_is_labelled_by_eigen_and_network():
    res = lyapunov_spectrum(Network.constant(4, 3, 1.0, activation="linear"), 20, n_networks=3, seed=0)
    assert isinstance(res, LyapunovResult)
    ds = res.to_xarray()
    assert ds["samples"].dims == ("network", "eigen") and list(ds["eigen"].values) == [1, 2, 3, 4]


@pytest.mark.parametrize("call, match", [
    (lambda: lyapunov_spectrum(_linear(4), 0), "n_steps"),
    (lambda: lyapunov_spectrum(_linear(4), 10, k=5), "k must be <= the width 4"),
    (lambda: lyapunov_spectrum(_linear(4), 10, n_networks=1), "n_networks"),
    (lambda: lyapunov_spectrum(Network.bn_chain(4), 10), "batch_norm=False"),
    (lambda: lyapunov_spectrum(Layer(4, 1.0), 10), "activation"),
    (lambda: lyapunov_spectrum([_linear(4), _linear(4, 2.0)], 10), "identical layers"),
    (lambda: gaussian_lyapunov_exponents(_linear(4, weight_law="uniform")), "Gaussian weights"),
    (lambda: gaussian_lyapunov_exponents(_linear(4, gamma=0.5)), "no skip connection"),
])
def test_bad_input_is_refused_by_name(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("seed", [-1, 2**64, 2.0, "1"])
def test_lyapunov_spectrum_refuses_a_seed_out_of_range(seed):
    with pytest.raises(ValueError, match="seed must be an integer in \\[0, 2\\*\\*64\\)"):
        lyapunov_spectrum(_linear(3), 2, seed=seed)
