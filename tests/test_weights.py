"""The one weight-law registry: its moments are the laws' moments, and its samplers draw them."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from sigdist.weights import TRUNCATED_NORMAL_VARIANCE_FACTOR, WEIGHT_LAWS, get_weight_law


def test_registered_moments_are_the_moments_of_the_laws():
    # independent route: quadrature of the standard forms' densities
    cut = stats.truncnorm(-2, 2)
    assert TRUNCATED_NORMAL_VARIANCE_FACTOR == pytest.approx(cut.var(), rel=1e-13)
    m4 = integrate.quad(lambda u: u ** 4 * cut.pdf(u), -2, 2, epsabs=0, epsrel=1e-13)[0]
    assert WEIGHT_LAWS["truncated_normal"].kurtosis == pytest.approx(m4 / cut.var() ** 2, rel=1e-12)
    assert WEIGHT_LAWS["uniform"].kurtosis == pytest.approx(stats.uniform(-math.sqrt(3), 2 * math.sqrt(3)).moment(4),
                                                            rel=1e-13)
    assert WEIGHT_LAWS["gaussian"].kurtosis == 3.0


@pytest.mark.parametrize("name", list(WEIGHT_LAWS))
def test_numpy_samplers_draw_the_registered_law(name):
    law = WEIGHT_LAWS[name]
    u = law.sample(np.random.default_rng(1), (400_000,))
    n = u.size
    # second and fourth moments by z-score against their sampling standard errors
    m2, m4 = np.mean(u ** 2), np.mean(u ** 4)
    se2 = np.std(u ** 2, ddof=1) / math.sqrt(n)
    se4 = np.std(u ** 4, ddof=1) / math.sqrt(n)
    assert abs(m2 - law.variance_factor) / se2 < 4.5
    assert abs(m4 - law.kurtosis * law.variance_factor ** 2) / se4 < 4.5
    out = np.empty(1000)
    law.fill(np.random.default_rng(2), out)
    assert np.array_equal(out, law.sample(np.random.default_rng(2), (1000,)))


@pytest.mark.parametrize("name", list(WEIGHT_LAWS))
def test_torch_samplers_draw_the_same_law_as_numpy(name):
    torch = pytest.importorskip("torch")
    law = WEIGHT_LAWS[name]
    gen = torch.Generator().manual_seed(0)
    t = law.sample_torch(gen, (200_000,), torch.float64, "cpu").numpy()
    u = law.sample(np.random.default_rng(3), (200_000,))
    # two samples of one law: Kolmogorov-Smirnov at a fixed seed
    assert stats.ks_2samp(t, u).pvalue > 1e-4


def test_a_callable_sampler_is_a_law_of_unknown_kurtosis_and_bad_names_are_refused():
    law = get_weight_law(lambda gen, shape: None)
    assert law.kurtosis is None and law.variance_factor == 1.0
    with pytest.raises(ValueError, match="weight_law must be one of gaussian, uniform, truncated_normal"):
        get_weight_law("cauchy")
