"""Batch normalisation steps (Daneshmand et al. 2020, eq. 1, 2): BN, one layer, and the chain on Gram matrices."""

import math

import numpy as np
import pytest

from sigdist.batchnorm import batch_norm, bn_step, gram_step, residual_apply


def test_gram_step_is_the_gram_of_bn_step():
    rng = np.random.default_rng(0)
    H, W = rng.standard_normal((7, 4)), rng.standard_normal((7, 7))
    for gamma in (0.3, math.inf):
        H1 = bn_step(H, W, gamma)
        np.testing.assert_allclose(gram_step(H @ H.T / 4, W, gamma), H1 @ H1.T / 4, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(np.mean(H1 * H1, axis=1), 1.0, rtol=1e-14)


def test_centred_batch_norm_gives_rows_of_mean_zero_and_mean_square_one():
    H = np.random.default_rng(0).standard_normal((7, 4)) + 3.0
    centred = batch_norm(H, center=True)
    np.testing.assert_allclose(centred.mean(axis=1), 0.0, atol=1e-14)
    np.testing.assert_allclose(np.mean(centred * centred, axis=1), 1.0, rtol=1e-14)


def test_residual_apply_adds_the_skip_connection_unless_gamma_is_infinite():
    rng = np.random.default_rng(1)
    W, X = rng.standard_normal((3, 3)), rng.standard_normal((3, 2))
    np.testing.assert_array_equal(residual_apply(W, X, math.inf), W @ X)
    np.testing.assert_allclose(residual_apply(W, X, 0.5), (np.eye(3) + 0.5 * W) @ X, rtol=1e-14)


@pytest.mark.parametrize("call, match", [
    (lambda: batch_norm(np.array([[1.0, -1.0], [0.0, 0.0]])), r"row at index \(1,\)"),
    (lambda: batch_norm(np.ones((2, 3)), center=True), "row at index"),  # a constant row centres to zero
    (lambda: batch_norm(np.ones(3)), "shape"),
    (lambda: bn_step(np.eye(2), np.eye(2), -1.0), "gamma"),
    (lambda: bn_step(np.eye(2), np.eye(2), 0.0), "gamma"),
    (lambda: gram_step(np.eye(2), np.zeros((2, 2)), math.inf), "zero diagonal"),
])
def test_bad_input_is_refused_by_name(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("flag", ["yes", None, 1])
def test_batch_norm_flags_must_be_real_bools(flag):
    with pytest.raises(ValueError, match="center must be True or False"):
        batch_norm(np.ones((2, 3)), center=flag)
