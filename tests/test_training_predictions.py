"""The statistics at initialisation that each paper says predict trainability (sigdist.training.predictions)."""

import math

import numpy as np
import pytest
from scipy import stats

from sigdist import Layer, Network, mean_cosine, pair_samples, shared_pair_samples
from sigdist.rank import rank_bound
from sigdist.residual_lengths import linear_readout_residual
from sigdist.training.predictions import (correlation, cosine_prediction, input_cosine, length_prediction,
                                          rank_prediction, sharing_scheme)
from sigdist.weights import TRUNCATED_NORMAL_VARIANCE_FACTOR


def test_he_cosine_after_one_layer_matches_the_first_order_mean_cosine():
    net = Network.he([64, 64])
    p = cosine_prediction(net, 0.3, n_networks=40_000, seed=1)
    exact = mean_cosine(net[0], 1.0, 1.0, 0.3).first_order
    # Monte Carlo error (z <= 4) plus the O(1/N^2) left out of the first-order value
    assert abs(p.cosine_mean[0] - exact) < 4 * p.cosine_mean_se[0] + 1.0 / 64**2


def test_he_cosine_drifts_to_one_and_the_mean_field_follows_it():
    p = cosine_prediction(Network.he([64] + [128] * 10), 0.3, n_networks=4000, seed=0)
    assert np.all(np.diff(p.cosine_mean) > 0)                   # the He c-map pushes cosines up
    assert abs(p.final_cosine - p.mean_field_cosine[-1]) < 0.02  # finite-width correction is small at N = 128
    assert 0 < p.cosine_retention < 0.3


@pytest.mark.parametrize("scheme", ["he", "gsm"])
def test_output_quantiles_are_those_of_the_sampled_output_norm(scheme):
    net = getattr(Network, scheme)([16] + [16] * 4)
    p = cosine_prediction(net, 0.2, n_networks=20_000, seed=3)
    samples = (pair_samples(net, 1.0, 1.0, 0.2, n_networks=20_000, seed=4) if scheme == "he" else
               shared_pair_samples(net, 1.0, 1.0, 0.2, n_networks=20_000, seed=4)).y1[:, -1]
    for level, q in zip(p.levels, p.output_quantiles):
        share = np.mean(samples <= q)
        assert abs(share - level) < 4 * math.sqrt(level * (1 - level) / samples.size)
    assert p.log_spread == pytest.approx(math.log(p.output_quantiles[-1] / p.output_quantiles[0]))
    assert math.copysign(1.0, p.output_atom) == 1.0  # GSM's linear chain has no atom: 0.0, not -0.0


def test_looks_linear_output_norm_is_a_point_mass_and_its_samples_agree():
    net = Network.looks_linear([16] + [32] * 5)
    p = cosine_prediction(net, 0.2, n_networks=500, seed=0)
    assert p.method == "point mass" and p.output_atom == 0.0 and p.log_spread == 0.0
    y1 = shared_pair_samples(net, 1.0, 1.0, 0.2, n_networks=500, seed=0).y1
    np.testing.assert_allclose(y1, 1.0, rtol=1e-12)


def test_he_output_atom_is_the_exact_probability_of_a_dead_layer():
    # width 2, one layer: |x_1|^2 = 0 iff both units are negative: 1/4 exactly
    p = cosine_prediction(Network.he([2, 2]), 0.0, n_networks=100)
    assert p.output_atom == pytest.approx(0.25, rel=1e-8)


def test_input_cosine_reads_the_difference_of_halves_under_sharing():
    x = np.array([[1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 0.0, 1.0]])
    assert input_cosine(x, n_pairs=4) == pytest.approx(1 / math.sqrt(3))
    # d = a - b: (1, 0) and (1, 0): cosine 1
    assert input_cosine(x, sharing="gsm", n_pairs=4) == pytest.approx(1.0)


def test_rank_prediction_starts_at_the_batch_rank_and_batch_norm_keeps_rank():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 16))
    plain = rank_prediction(Network.he([16] + [32] * 8), x, n_networks=4, seed=0)
    bn = rank_prediction(Network([Layer(32, 2 / 16, batch_norm=True)] + [Layer(32, 1 / 16, batch_norm=True)] * 7,
                                 input_width=16), x, n_networks=4, seed=0)
    assert plain.rank_bound[0] == pytest.approx(rank_bound(x.T), rel=1e-12)
    assert plain.final_rank < 0.5 * bn.final_rank  # Lemma 3 vs Theorem 2: far apart, not a close call


def test_rank_pretraining_raises_the_rank_bound():
    pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((24, 12))
    x.flags.writeable = False  # as a Dataset holds its arrays: no warning from torch (warnings are errors here)
    p = rank_prediction(Network.he([12] + [24] * 6), x, n_networks=2, pretrain_iter=30, seed=0)
    assert p.pretrained_rank_bound[-1] > 1.5 * p.rank_bound[-1]
    assert p.final_rank == p.pretrained_rank_bound[-1]


def test_length_prediction_of_he_truncated_and_residual_nets_is_exact():
    widths = [10, 20, 30, 40]
    he = length_prediction(Network.he(widths))
    assert he.log_mean_ratio == pytest.approx(0.0, abs=1e-12)
    assert he.relative_variance == pytest.approx(np.prod([1 + 5 / n for n in widths[1:]]) - 1, rel=1e-12)
    assert he.sum_reciprocal_widths == pytest.approx(sum(1 / n for n in widths[1:]), rel=1e-15)
    trunc = Network([Layer(w, 2 / f, weight_law="truncated_normal") for f, w in zip(widths[:-1], widths[1:])],
                    input_width=10)
    t = length_prediction(trunc, np.ones(10))
    assert t.log_mean_ratio == pytest.approx(3 * math.log(TRUNCATED_NORMAL_VARIANCE_FACTOR), rel=1e-12)
    res = length_prediction(linear_readout_residual(6, [6], [0.5, 0.2, 0.1]))
    assert res.residual and res.length_mean == pytest.approx((1.5) * (1.08) * (1.02), rel=1e-12)
    assert math.isnan(res.sum_reciprocal_widths)


def test_pearson_interval_is_fishers_as_scipy_computes_it():
    rng = np.random.default_rng(2)
    x = rng.standard_normal(30)
    y = 0.6 * x + rng.standard_normal(30)
    c = correlation(x, y, level=0.9)
    ref = stats.pearsonr(x, y)
    ci = ref.confidence_interval(0.9)
    assert c.pearson == pytest.approx(ref.statistic, rel=1e-12)
    assert (c.pearson_low, c.pearson_high) == pytest.approx((ci.low, ci.high), rel=1e-10)
    assert c.spearman == pytest.approx(stats.spearmanr(x, y).statistic, rel=1e-12)
    assert c.spearman_low < c.spearman < c.spearman_high


def test_bootstrap_interval_of_independent_data_covers_zero_and_is_seeded():
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal(40), rng.standard_normal(40)
    a, b = correlation(x, y, seed=7), correlation(x, y, seed=7)
    assert a.spearman_low < 0 < a.spearman_high
    assert (a.spearman_low, a.spearman_high) == (b.spearman_low, b.spearman_high)


@pytest.mark.parametrize("call, name", [
    (lambda: cosine_prediction(Network.he([4, 4]), 1.0), "cos0"),
    (lambda: cosine_prediction(Network.he([4, 4]), 0.1, levels=[0.5]), "levels"),
    (lambda: cosine_prediction(Network.bn_chain(4, 2), 0.1), "network"),
    (lambda: cosine_prediction(Network([Layer(4, 0.5), Layer(4, 0.5, sharing="gsm")], 4), 0.1), "network"),
    (lambda: cosine_prediction(Network.looks_linear([8, 4]), 0.1), "network"),
    (lambda: rank_prediction(Network.he([4, 4]), np.ones((3, 5))), "x0"),
    (lambda: rank_prediction(Network.bn_chain(4, 2), np.ones((3, 4)), pretrain_iter=2), "pretrain_iter"),
    (lambda: input_cosine(np.ones(3)), "x"),
    (lambda: input_cosine(np.ones((3, 3)), sharing="gsm"), "x"),
    (lambda: correlation([1, 2], [1, 2]), "predicted"),
    (lambda: correlation([1, 2, math.inf], [1, 2, 3]), "predicted"),
    (lambda: correlation([1, 2, 3], [1, 2, 3], level=1.0), "level"),
    (lambda: correlation([1, 1, 1, 1], [1, 2, 3, 4]), "predicted must not be constant"),
    (lambda: correlation([1, 2, 3, 4], [5, 5, 5, 5]), "measured must not be constant"),
])
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_sharing_scheme_is_the_one_scheme_of_every_layer():
    assert sharing_scheme(Network.gsm([4, 4, 4])) == "gsm"
    assert sharing_scheme([4, 4]) == "none"
