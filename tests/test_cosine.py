"""The cosine after ReLU layers: the c-map, its 1/N correction, and CosineLaw's contract (Thm. 5, Fig. 2)."""

import math

import numpy as np
import pytest

from sigdist import EmpiricalLaw, Law, Layer, Network
from sigdist.cosine import CosineLaw, cosine_law, mean_cosine, mean_field_cosines
from sigdist.relu_pair import c_map


def cosine_samples(width, c, sigma_w2, n, seed):
    """Cosines after one relu layer from numpy's multivariate normal (independent of sigdist's sampler)."""
    rng = np.random.default_rng(seed)
    v = sigma_w2 * np.array([[1.0, c], [c, 1.0]])
    h = rng.multivariate_normal([0, 0], v, size=(n, width))
    x = np.maximum(h, 0)
    a, b, p = (x[..., 0] ** 2).sum(1), (x[..., 1] ** 2).sum(1), (x[..., 0] * x[..., 1]).sum(1)
    ok = (a > 0) & (b > 0)
    return p[ok] / np.sqrt(a[ok] * b[ok])


def test_mean_cosine_correction_is_first_order_in_one_over_width():
    c = 0.9
    errs_inf, errs_first = [], []
    for width in (10, 20):
        m = mean_cosine(Layer(width, 2 / width), 1.0, 1.0, c)
        inf, first = m.infinite_width, m.first_order
        assert inf == pytest.approx(float(c_map(c)), rel=1e-12)  # the c-map at sigma_b = 0
        cos = cosine_samples(width, c, 2 / width, 400_000, seed=width)
        se = cos.std(ddof=1) / math.sqrt(cos.size)
        errs_inf.append(abs(cos.mean() - inf))
        errs_first.append(abs(cos.mean() - first))
        assert errs_inf[-1] > 10 * se  # the c-map misses the finite-width mean
        assert errs_first[-1] < errs_inf[-1] / 2
    # the corrected mean's residual is O(1/N^2): doubling N divides it by about four
    assert errs_first[0] / errs_first[1] > 2.5
    assert errs_inf[0] / errs_inf[1] == pytest.approx(2.0, rel=0.25)  # the c-map's error is O(1/N)


def test_mean_field_cosines_iterate_the_c_map():
    net = Network([Layer(10, 0.2), Layer(10, 0.2)])
    out = mean_field_cosines(net, 1.0, 1.0, 0.5)
    assert out[0] == pytest.approx(float(c_map(0.5)), rel=1e-14)
    assert out[1] == pytest.approx(float(c_map(out[0])), rel=1e-12)
    np.testing.assert_array_equal(mean_field_cosines([10, 20, 20], 1.0, 1.0, 0.5),
                                  mean_field_cosines(Network.he([10, 20, 20]), 1.0, 1.0, 0.5))


def test_mean_field_cosines_refuse_a_zero_input():
    with pytest.raises(ValueError, match="y1 and y2 must be > 0"):
        mean_field_cosines(Network([Layer(10, 0.2)]), 0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="network"):
        mean_field_cosines(None, 1.0, 1.0, 0.0)


def test_cosine_law_mean_is_the_corrected_mean_and_its_normal_approximation_is_measured():
    layer = Layer(100, 0.02)
    law = cosine_law(layer, 1.0, 1.0, 0.25, n_networks=40_000, seed=8)
    m = mean_cosine(layer, 1.0, 1.0, 0.25)
    inf, first = m.infinite_width, m.first_order
    assert law.approx_mean == first
    # z-score of the sample mean against the corrected mean, plus the O(1/N^2) remainder of the delta method:
    # K |first - inf| / N, with K = 3 to 4.4 measured at N = 10, 20 (input cosines 0.25, 0.9), allowed as 8
    remainder = 8 * abs(first - inf) / layer.width
    assert abs(law.mean() - law.approx_mean) < 4 * law.mean_se() + remainder
    assert law.p_undefined == 0.0
    # the empirical quantile inverts the empirical CDF to within one sample's mass
    assert 0.5 <= float(law.cdf(law.ppf(0.5))) <= 0.5 + 1 / law.size
    # the normal approximation is off by its skewness: a few percent at N = 100, measured, not assumed
    assert law.dkw_band < law.approx_error < 0.05


def test_cosine_law_is_a_law_matching_independent_monte_carlo():
    layer, c = Layer(20, 0.1), 0.5
    law = cosine_law(layer, 1.0, 1.0, c, n_networks=20_000, seed=3)
    assert isinstance(law, CosineLaw) and isinstance(law, EmpiricalLaw) and isinstance(law, Law)
    ref = cosine_samples(20, c, 0.1, 20_000, seed=4)
    lo, hi = law.support()
    assert -1.0 <= lo < hi <= 1.0
    for x in (0.3, 0.5, 0.6, 0.7):
        f, g = float(law.cdf(x)), np.mean(ref <= x)
        se = math.sqrt(g * (1 - g) * (1 / law.size + 1 / ref.size))  # two independent empirical CDFs
        assert abs(f - g) < 4 * se, x
        assert float(law.sf(x)) == pytest.approx(1 - f, abs=1e-15)
        assert float(law.cdf_se(x)) == pytest.approx(math.sqrt(f * (1 - f) / law.size), rel=1e-12)
    for k in (1, 2):
        se = math.sqrt(law.moment_se(k) ** 2 + (np.std(ref**k, ddof=1) / math.sqrt(ref.size)) ** 2)
        assert abs(law.moment(k) - np.mean(ref**k)) < 4 * se, k
    assert law.mean_se() == pytest.approx(law.moment_se(1))
    assert law.var() == pytest.approx(law.moment(2) - law.mean() ** 2, rel=1e-12)
    assert law.std() == pytest.approx(math.sqrt(law.var()), rel=1e-15)
    assert law.expect() == pytest.approx(law.mean(), rel=1e-12)
    assert law.median() == float(law.ppf(0.5))
    a, b = law.interval(0.9)
    inside = np.mean((law.samples >= a) & (law.samples <= b))
    assert 0.9 <= inside <= 0.9 + 2 / law.size
    assert float(law.sf(law.isf(0.1))) <= 0.1
    assert np.array_equal(law.rvs(5, random_state=1), law.rvs(5, random_state=1))
    with pytest.raises(ValueError, match="no density"):
        law.pdf(0.5)


def test_cosine_law_refuses_a_zero_input_and_a_non_layer():
    with pytest.raises(ValueError, match="y1 and y2 must be > 0"):
        cosine_law(Layer(10, 0.2), 0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="layer must be a sigdist.Layer"):
        cosine_law([10, 10], 1.0, 1.0, 0.0)
