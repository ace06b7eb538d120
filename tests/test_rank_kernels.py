"""The compiled step of the BN rank chain against the same step written out in numpy, statistic by statistic."""

import math

import numpy as np
import pytest

from sigdist._rank_kernels import chain_block, flops_per_step, one_blas_thread
from sigdist.rank import rank_bound, soft_rank_from_gram


def _numpy_steps(W, L, gamma_u, residual, tau):
    """The step as numpy writes it: A = L + gamma W L, BN rows, r and the soft rank of M = L L^T."""
    d = L.shape[0]
    r, s = [], []
    for Wi in W:
        A = L + gamma_u * (Wi @ L) if residual else Wi @ L
        L = A / np.linalg.norm(A, axis=1, keepdims=True)
        r.append(rank_bound(L))
        s.append(soft_rank_from_gram(L @ L.T, tau) if tau > 0 else d)
    return L, np.array(r), np.array(s, dtype=float)


@pytest.mark.parametrize("d, m, residual, tau", [(12, 12, True, 0.5), (20, 7, False, 0.3), (9, 9, False, 0.9),
                                                 (40, 40, True, 0.5), (6, 6, True, 0.0)])
def test_compiled_step_equals_the_numpy_step(d, m, residual, tau):
    rng = np.random.default_rng(d + m)
    W = rng.standard_normal((25, d, d))
    L0 = rng.standard_normal((d, m)) / math.sqrt(m)
    L = L0.copy()
    r, s = np.full(25, np.nan), np.full(25, np.nan)
    rec = np.ones(25, dtype=bool)
    assert chain_block(W, L, 0.7, residual, rec, rec, tau, r, s) == -1
    L_ref, r_ref, s_ref = _numpy_steps(W, L0, 0.7, residual, tau)
    np.testing.assert_allclose(L, L_ref, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(r, r_ref, rtol=1e-11)
    np.testing.assert_array_equal(s, s_ref)


def test_only_the_requested_steps_are_recorded():
    rng = np.random.default_rng(1)
    W, L = rng.standard_normal((10, 8, 8)), rng.standard_normal((8, 8))
    r, s = np.full(10, np.nan), np.full(10, np.nan)
    rec_r, rec_s = np.arange(10) % 3 == 0, np.arange(10) % 4 == 1
    chain_block(W, L, 0.5, True, rec_r, rec_s, 0.5, r, s)
    np.testing.assert_array_equal(np.isfinite(r), rec_r)
    np.testing.assert_array_equal(np.isfinite(s), rec_s)


def test_float32_step_follows_the_float64_step_to_single_precision():
    rng = np.random.default_rng(2)
    W = rng.standard_normal((5, 16, 16))
    L = rng.standard_normal((16, 16)) / 4
    out64 = [np.full(5, np.nan) for _ in range(2)]
    out32 = [np.full(5, np.nan) for _ in range(2)]
    rec = np.ones(5, dtype=bool)
    L64, L32 = L.copy(), L.astype(np.float32)
    chain_block(W, L64, 0.5, True, rec, rec, 0.5, *out64)
    chain_block(W.astype(np.float32), L32, 0.5, True, rec, rec, 0.5, *out32)
    np.testing.assert_allclose(L32, L64, rtol=0, atol=1e-5)
    np.testing.assert_allclose(out32[0], out64[0], rtol=1e-5)


def test_a_vanishing_row_stops_the_block_at_its_step():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((6, 5, 5))
    W[3] = 0.0  # no skip connection: W_4 L = 0
    L = rng.standard_normal((5, 5))
    r, s = np.full(6, np.nan), np.full(6, np.nan)
    assert chain_block(W, L, 1.0, False, np.ones(6, bool), np.ones(6, bool), 0.5, r, s) == 3


def test_one_blas_thread_limits_and_restores():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]
    with one_blas_thread():
        assert all(lib["num_threads"] == 1 for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas")
    assert [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"] == before


def test_flops_count_the_three_calls():
    # gemm 2 d^2 m, syrk d m^2, sytrf m^3 / 3
    assert flops_per_step(30, 6) == 2 * 900 * 6 + 30 * 36 + 72
    assert flops_per_step(30, 6, soft_rank=False) == 2 * 900 * 6 + 30 * 36
    assert flops_per_step(30, 6, r=False, soft_rank=False) == 2 * 900 * 6


def test_a_batch_of_one_keeps_r_exactly_one():
    # N = 1: every row of L is +-1 after BN (a division, exact), so M has trace d and ||M||_F^2 = d^2 exactly
    rng = np.random.default_rng(4)
    W, L = rng.standard_normal((50, 7, 7)), rng.standard_normal((7, 1))
    r, s = np.full(50, np.nan), np.full(50, np.nan)
    chain_block(W, L, 0.5, True, np.ones(50, bool), np.ones(50, bool), 0.5, r, s)
    np.testing.assert_array_equal(r, 1.0)
    np.testing.assert_array_equal(s, 1.0)  # the one nonzero eigenvalue of M is d >= tau
