r"""The BN rank chain's step in one compiled loop: BLAS and LAPACK called from numba, no Python per step.

One call of :func:`chain_block` takes one chain ``size`` steps (Daneshmand et al. 2020, eq. 1, 2 with
:math:`\alpha = 0`, :math:`\beta = 1`) on its Gram factor ``L`` (``d x m``, :math:`M = L L^\top`,
``m = min(d, N)``), the weights ``W_1 .. W_size`` already drawn:

1. ``A = L + gamma_u W L`` (``gamma = inf``: ``A = W L``): one ``gemm``, :math:`2 d^2 m` flops;
2. ``L = D A``, ``D`` the inverse row norms of ``A`` (BN), in the same pass as the skip connection: :math:`O(dm)`;
3. where a statistic is recorded, the ``m x m`` Gram matrix ``G`` (``L^T L``, or ``L L^T`` when ``m = d``;
   the same nonzero spectrum as ``M``) by ``syrk``, one triangle only, :math:`d m^2` flops;
   :math:`r(H) = d^2 / \|G\|_F^2` (eq. 4; ``Tr M = d`` after BN);
4. the soft rank (eq. 3): the number of eigenvalues of ``G`` at least ``tau`` is, by Sylvester's law of
   inertia, the number of positive eigenvalues of the block-diagonal ``D`` of the Bunch-Kaufman factorisation
   :math:`P (G - \tau I) P^\top = U D U^\top` (LAPACK ``sytrf``, :math:`m^3/3` flops) -- the same count as
   :func:`sigdist.rank.soft_rank_from_gram`.

So a step costs :math:`2 d^2 m + d m^2 + m^3/3` flops with every statistic recorded (:math:`10 d^3 / 3` at
``N = d``): the floor ``benchmarks/bench_rank.py`` measures against. The BLAS and LAPACK routines are scipy's
(``scipy.linalg.cython_blas`` / ``cython_lapack``), registered as external symbols so the compiled kernel is
cached on disk. Kernels release the GIL: :class:`sigdist.rank_chain.RankChain` runs chains in threads, one BLAS
thread each (:func:`one_blas_thread`).
"""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor

import llvmlite.binding as llvm
import numpy as np
from numba import types
from numba.core import cgutils
from numba.core.extending import get_cython_function_address
from numba.extending import intrinsic

from ._numba import njit

__all__ = ["chain_block", "flops_per_step", "one_blas_thread", "worker_pool"]

_VP = types.voidptr


def _external(module, name, n_args):
    """``name`` of scipy's ``cython_<module>`` as an external function of ``n_args`` pointers (by symbol)."""
    symbol = f"sigdist_{name}"
    llvm.add_symbol(symbol, get_cython_function_address(f"scipy.linalg.cython_{module}", name))
    return types.ExternalFunction(symbol, types.void(*([_VP] * n_args)))


_dgemm, _sgemm = (_external("blas", f"{p}gemm", 13) for p in "ds")
_dsyrk, _ssyrk = (_external("blas", f"{p}syrk", 10) for p in "ds")
_dsytrf, _ssytrf = (_external("lapack", f"{p}sytrf", 8) for p in "ds")


@intrinsic
def _ptr(typingctx, arr):
    """The data pointer of an array (for the Fortran interface: every argument by reference)."""
    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        return builder.bitcast(ary.data, cgutils.voidptr_t)
    return _VP(arr), codegen


def flops_per_step(d, m, r=True, soft_rank=True):
    """Flops of one chain step as :func:`chain_block` does it: ``W L``, and the Gram + ``sytrf`` where recorded."""
    return 2.0 * d * d * m + (d * m * m if (r or soft_rank) else 0.0) + (m ** 3 / 3.0 if soft_rank else 0.0)


@njit(nogil=True, fastmath={"reassoc", "contract"})
def _sum_squares(row):
    s = 0.0
    for x in row:
        s += x * x
    return s


@njit(nogil=True, fastmath={"reassoc"})
def _add_sum_squares(row, other):
    """``row += other``, and the sum of squares of the result (one pass)."""
    s = 0.0
    for b in range(row.size):
        x = row[b] + other[b]
        row[b] = x
        s += x * x
    return s


@njit(nogil=True)
def chain_block(W, L, gamma_u, residual, rec_r, rec_s, tau, r_out, s_out):  # noqa: PLR0913, PLR0912
    """Take one chain ``W.shape[0]`` steps in place on ``L`` (C order, float64 or float32).

    ``rec_r[i]`` / ``rec_s[i]``: record ``r(H)`` / the soft rank after step ``i`` into ``r_out[i]`` / ``s_out[i]``
    (``tau = 0``: the soft rank is ``d``, eq. 3). Returns -1, or the index of the step at which a row of
    :math:`\\hat W L` was zero or not finite (``L`` then holds a partial step: the caller discards it).
    """
    size, d, m = W.shape[0], L.shape[0], L.shape[1]
    single = L.itemsize == 4
    A = np.empty_like(L)
    G = np.empty((m, m), L.dtype)
    ipiv = np.empty(m, np.int32)
    lwork = 32 * m  # blocks of 32 columns: at m = 128 about 25 % faster than LAPACK's default 64 (measured)
    work = np.empty(lwork, L.dtype)
    ch = np.empty(4, np.uint8)
    ch[0], ch[1], ch[2] = ord("N"), ord("U"), ord("T")
    ints = np.empty(6, np.int32)  # m, d, lwork, info, (syrk n, k)
    ints[0], ints[1], ints[2] = m, d, lwork
    scal = np.zeros(4, L.dtype)  # gemm alpha, beta; syrk 1, 0
    scal[2] = 1.0
    scal[0], scal[1] = (gamma_u if residual else 1.0), 0.0
    # syrk: L is the column-major m x d matrix X = L^T; G = X X^T = L^T L when m < d, X^T X = L L^T when m = d
    trans = 0 if m < d else 2
    ints[4], ints[5] = m, (d if m < d else m)
    for i in range(size):
        Wi = W[i]
        # column-major: A^T = alpha L^T W^T, i.e. A = alpha W L row-major (alpha = gamma_u, or 1 without skip)
        if single:
            _sgemm(_ptr(ch), _ptr(ch), _ptr(ints), _ptr(ints[1:]), _ptr(ints[1:]), _ptr(scal), _ptr(L), _ptr(ints),
                   _ptr(Wi), _ptr(ints[1:]), _ptr(scal[1:]), _ptr(A), _ptr(ints))
        else:
            _dgemm(_ptr(ch), _ptr(ch), _ptr(ints), _ptr(ints[1:]), _ptr(ints[1:]), _ptr(scal), _ptr(L), _ptr(ints),
                   _ptr(Wi), _ptr(ints[1:]), _ptr(scal[1:]), _ptr(A), _ptr(ints))
        for a in range(d):  # A += L (the skip connection) and BN, row by row
            norm = np.sqrt(_add_sum_squares(A[a], L[a]) if residual else _sum_squares(A[a]))
            if not (norm > 0.0 and norm < np.inf):
                return i
            for b in range(m):  # a division, not a reciprocal: with N = 1 every entry is then exactly +-1
                L[a, b] = A[a, b] / norm
        if not (rec_r[i] or rec_s[i]):
            continue
        if single:
            _ssyrk(_ptr(ch[1:]), _ptr(ch[trans:]), _ptr(ints[4:]), _ptr(ints[5:]), _ptr(scal[2:]), _ptr(L), _ptr(ints),
                   _ptr(scal[3:]), _ptr(G), _ptr(ints))
        else:
            _dsyrk(_ptr(ch[1:]), _ptr(ch[trans:]), _ptr(ints[4:]), _ptr(ints[5:]), _ptr(scal[2:]), _ptr(L), _ptr(ints),
                   _ptr(scal[3:]), _ptr(G), _ptr(ints))
        # the column-major upper triangle is the row-major lower one
        if rec_r[i]:
            frob = 0.0
            for a in range(m):
                frob += 2.0 * _sum_squares(G[a, :a]) + float(G[a, a]) * float(G[a, a])
            r_out[i] = d * d / frob
        if rec_s[i]:
            if tau == 0.0:
                s_out[i] = d
                continue
            for a in range(m):
                G[a, a] -= tau
            if single:
                _ssytrf(_ptr(ch[1:]), _ptr(ints), _ptr(G), _ptr(ints), _ptr(ipiv), _ptr(work), _ptr(ints[2:]),
                        _ptr(ints[3:]))
            else:
                _dsytrf(_ptr(ch[1:]), _ptr(ints), _ptr(G), _ptr(ints), _ptr(ipiv), _ptr(work), _ptr(ints[2:]),
                        _ptr(ints[3:]))
            # 1x1 pivots carry their sign on the diagonal; every 2x2 block adds exactly one positive eigenvalue
            count, in_blocks = 0, 0
            for a in range(m):
                if ipiv[a] > 0:
                    count += G[a, a] >= 0.0
                else:
                    in_blocks += 1
            s_out[i] = count + in_blocks // 2
    return -1


_CONTROLLER = []
_POOL = []


@contextlib.contextmanager
def one_blas_thread():
    """Every BLAS library loaded limited to one thread inside the block (threadpoolctl), restored after."""
    from threadpoolctl import ThreadpoolController

    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    with _CONTROLLER[0].limit(limits=1, user_api="blas"):
        yield


def worker_pool():
    """One thread per core, shared by every chain in the process (started once: no thread start per block)."""
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="sigdist-rank"))
    return _POOL[0]
