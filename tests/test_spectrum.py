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
    lam = mellin_eigenvalue(m, layer)
    for z in (0.3, 2.0):
        f = lambda u: float(kernel_pdf(math.exp(u), z, layer)) * math.exp((m + 1) * u)  # noqa: E731 (y = e^u)
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
    z = (x.mean() - mellin_eigenvalue(m, Layer(width, sigma_w2))) / (x.std(ddof=1) / math.sqrt(x.size))
    assert abs(z) < 4


def test_printed_eq8_is_off_by_four_to_the_power_m_plus_one():
    layer = Layer(12, 0.2)
    for m in (-3.0, -2.0, -1.5, -1.0):
        assert printed_eq8(m, 12, 0.2) == pytest.approx(4.0 ** (m + 1) * mellin_eigenvalue(m, layer), rel=1e-12)


def test_he_critical_exponent_is_minus_two_for_every_width():
    for width in (1, 2, 5, 10, 50, 200, 1000):
        layer = Layer(width, 2 / width)
        assert mellin_eigenvalue(-2.0, layer) == pytest.approx(1.0, rel=1e-13)  # = sigma_w2 E[S] (eq. 5)
        m_crit, m_upper = critical_window(layer)
        # roundoff in log(lambda) (~1e-13) over its slope at the root (~5 / (2N)) bounds the accuracy
        assert m_crit == pytest.approx(-2.0, abs=1e-12 * width)
        assert m_upper > -1.0 or width >= 50  # the window passes -1 (where lambda = 1 - 2^-N < 1)
        fit = -3.2559793 - 1.6207083 * width  # the paper's fit: wrong
        assert abs(fit - m_crit) > 1.5
    assert mellin_eigenvalue(-1.0, Layer(7, 0.9)) == pytest.approx(1 - 2.0**-7, rel=1e-14)


def test_window_is_where_the_eigenvalue_is_below_one():
    layer = Layer(10, 0.5)
    lo, hi = critical_window(layer)
    inside = np.linspace(lo, hi, 12)[1:-1]
    assert np.all(mellin_eigenvalue(inside, layer) < 1)
    assert mellin_eigenvalue(lo, layer) == pytest.approx(1, abs=1e-12)
    assert mellin_eigenvalue(hi, layer) == pytest.approx(1, abs=1e-12)
    assert np.all(mellin_eigenvalue(np.array([lo - 0.1, min(hi + 0.01, -0.501)]), layer) > 1)


def test_network_eigenvalues_multiply():
    net = Network([Layer(10, 0.3), Layer(4, 0.7), Layer(30, 0.05)])
    m = np.array([-2.5, -1.2, -0.9])
    np.testing.assert_allclose(mellin_eigenvalue(m, net),
                               np.prod([mellin_eigenvalue(m, layer) for layer in net], axis=0), rtol=1e-13)
    assert mellin_domain(net) == -0.5
    assert mellin_domain(Layer(6, 1.0, activation="linear")) == 2.0


def test_log_eigenvalue_stays_finite_where_the_eigenvalue_overflows():
    layer = Layer(2000, 2 / 2000)
    logs = log_mellin_eigenvalue([-400.0, -2000.0], layer)
    assert np.all(np.isfinite(logs)) and logs[1] > 709
    assert math.isinf(mellin_eigenvalue(-2000.0, layer))


def test_tail_index():
    assert tail_index(Layer(20, 2 / 20, 0.1)) == pytest.approx(1.0, rel=1e-10)  # He: alpha = 1
    layer = Layer(10, 0.05)
    alpha = tail_index(layer)
    assert mellin_eigenvalue(-1 - alpha, layer) == pytest.approx(1.0, rel=1e-10)
    # a supercritical layer: only the regeneration at z = 0 (probability 2^-N) gives a stationary law
    tiny = tail_index(Layer(100, 0.05))
    assert 0 < tiny < 1e-25
    with pytest.raises(ValueError, match="no finite tail index"):
        tail_index(Layer(10, 0.5, activation="linear"))


@pytest.mark.parametrize("m, match", [(-0.5, "diverges"), (0.3, "diverges"), (1j, "real"), (math.nan, "finite")])
def test_bad_m(m, match):
    with pytest.raises(ValueError, match=match):
        mellin_eigenvalue(m, Layer(5, 1.0))


def test_bias_and_other_activations_are_refused():
    with pytest.raises(ValueError, match="sigma_b2 = 0"):
        mellin_eigenvalue(-2.0, Layer(5, 1.0, 0.1))
    with pytest.raises(ValueError, match="relu, linear or abs"):
        mellin_eigenvalue(-2.0, Layer(5, 1.0, activation="tanh"))
