"""Rank-increasing pre-training (Daneshmand et al. 2020, §4): layer-wise Adam ascent on r(H) by autograd."""

import math

import numpy as np
import pytest

from sigdist.pretraining import maximize_rank_bound


def test_pretraining_raises_the_rank_bound():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    d, depth = 32, 8
    weights = [rng.standard_normal((d, d)) * math.sqrt(2 / d) for _ in range(depth)]
    X = rng.standard_normal((d, 32))
    same, before, unchanged = maximize_rank_bound(weights, X, n_iter=0)
    np.testing.assert_allclose(unchanged, before, rtol=1e-14)
    np.testing.assert_array_equal(same[0].numpy(), weights[0])
    _, before, after = maximize_rank_bound(weights, X, n_iter=25, lr=0.05)
    assert before[-1] < 2.0 and after[-1] > 3 * before[-1]
    with pytest.raises(ValueError, match="activation must be one of"):
        maximize_rank_bound(weights, X, activation="mish")
    params = [torch.nn.Parameter(torch.tensor(w)) for w in weights[:2]]  # leaves that require grad
    _, before, after = maximize_rank_bound(params, X, n_iter=5, lr=0.05)
    assert after[-1] > before[-1]
    with pytest.raises(ValueError, match=r"weights\[1\] is all zero"):
        maximize_rank_bound([weights[0], np.zeros((d, d))], X)


def test_activation_comes_from_the_registry():
    pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    weights = [rng.standard_normal((6, 6)) for _ in range(2)]
    X = rng.standard_normal((6, 10))
    _, linear, _ = maximize_rank_bound(weights, X, n_iter=0, activation="linear")
    # r(W2 W1 X) directly: the linear registry entry is the identity
    from sigdist.rank import rank_bound

    assert linear[-1] == pytest.approx(rank_bound(weights[1] @ weights[0] @ X), rel=1e-12)
    _, tanh, _ = maximize_rank_bound(weights, X, n_iter=0, activation="tanh")
    assert tanh[0] == pytest.approx(rank_bound(np.tanh(weights[0] @ X)), rel=1e-12)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_iter=-1), "n_iter"),
    (dict(lr=float("nan")), "lr"),
])
def test_bad_input_is_refused_by_name(kwargs, match):
    pytest.importorskip("torch")
    with pytest.raises(ValueError, match=match):
        maximize_rank_bound([np.eye(2)], np.eye(2), **kwargs)
    with pytest.raises(ValueError, match="x0"):
        maximize_rank_bound([np.eye(2)], np.ones(2))
