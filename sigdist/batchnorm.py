r"""Batch normalisation of hidden representations (Daneshmand et al. 2020, eq. 1 and 2): single steps.

For :math:`H \in \mathbb{R}^{d \times N}` (width ``d``, batch ``N``), :math:`M(H) = H H^\top / N` and

.. math:: \mathrm{BN}(H) = \mathrm{diag}(M(H))^{-1/2} H, \qquad
          H_{\ell+1} = \mathrm{BN}(\hat W_\ell H_\ell), \quad \hat W_\ell = I + \gamma W_\ell

(eq. 2 with :math:`\alpha = 0`, :math:`\beta = 1`; ``gamma = inf`` means :math:`\hat W = W`, no skip
connection). Every rank measure of :mod:`sigdist.rank` depends on ``H`` only through ``M``, and
:math:`M_{\ell+1} = D \hat W M_\ell \hat W^\top D`, :math:`D = \mathrm{diag}(\hat W M_\ell \hat W^\top)^{-1/2}`
(:func:`gram_step`): the chain lives on ``d x d`` correlation matrices whatever the batch.

The chain itself (many seeded chains, statistics, checkpoints) is :class:`sigdist.rank_chain.RankChain`;
the Lyapunov spectrum of products without BN is :mod:`sigdist.lyapunov`; rank against depth of real
networks is :mod:`sigdist.rank_profile`.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import check_bool
from ._rank_checks import check_gamma, check_matrix, check_rows

__all__ = ["batch_norm", "bn_step", "gram_factor", "gram_step", "residual_apply"]


def residual_apply(W, X, gamma):
    r""":math:`\hat W X = X + \gamma W X` (``gamma = inf``: :math:`W X`), for numpy arrays or torch tensors.

    Daneshmand et al. (2020), eq. 1. No argument checks: the analyses call it in their inner loops.
    """
    return W @ X if math.isinf(gamma) else X + gamma * (W @ X)


def batch_norm(H, center=False):
    r"""``BN(H) = diag(M(H))^{-1/2} H`` (eq. 2, :math:`\alpha = 0`, :math:`\beta = 1`), optionally mean-centred.

    Parameters
    ----------
    H : array_like, shape (d, N) or (..., d, N)
    center : bool
        Subtract each row's mean over the batch first (standard BN; the paper omits it).

    Returns
    -------
    ndarray, same shape: every row has mean square 1 (and mean 0 if ``center``).

    Raises
    ------
    ValueError
        If ``H`` (centred, with ``center``) has an all-zero row: BN divides by its norm.
    """
    H = check_matrix(H)
    if check_bool(center, "center"):
        H = H - H.mean(axis=-1, keepdims=True)
    check_rows(H)
    return H / np.sqrt(np.mean(H * H, axis=-1, keepdims=True))


def bn_step(H, W, gamma, center=False):
    r"""One layer of eq. 1: :math:`\mathrm{BN}(H + \gamma W H)` (``gamma = inf``: :math:`\mathrm{BN}(W H)`).

    Parameters
    ----------
    H : array_like, shape (d, N)
    W : array_like, shape (d, d)
    gamma : float > 0 or math.inf
        Residual strength.
    center : bool
    """
    H = check_matrix(H)
    W = check_matrix(W, "W")
    gamma = check_gamma(gamma)
    return batch_norm(residual_apply(W, H, gamma), center=center)


def gram_step(M, W, gamma):
    r"""The chain on Gram matrices: :math:`D \hat W M \hat W^\top D`,
    :math:`D = \mathrm{diag}(\hat W M \hat W^\top)^{-1/2}`.

    Equals ``M(bn_step(H, W, gamma))`` for ``M = M(H)`` (without centring), at :math:`O(d^3)` cost
    independent of the batch.
    """
    M = check_matrix(M, "M")
    W = check_matrix(W, "W")
    gamma = check_gamma(gamma)
    What = W if math.isinf(gamma) else np.eye(W.shape[-1]) + gamma * W
    G = What @ M @ np.swapaxes(What, -1, -2)
    diag = np.diagonal(G, axis1=-2, axis2=-1)
    if np.any(diag <= 0):
        raise ValueError("W M W^T has a zero diagonal entry: batch norm divides by it")
    s = 1.0 / np.sqrt(diag)
    return G * s[..., :, None] * s[..., None, :]


def gram_factor(X, center=False):
    r"""A factor ``L`` with :math:`L L^\top = M(X P) = X P X^\top / N` (``P`` the centring projection, or ``I``).

    Shape ``(..., d, min(d, N))``: ``X / sqrt(N)`` itself for :math:`N \le d`; for :math:`N > d` the transpose of
    ``R`` in the QR factorisation :math:`(X/\sqrt N)^\top = Q R`, since then :math:`F F^\top = R^\top R`.
    The BN chain runs on it (:class:`sigdist.rank_chain.RankChain`): rank measures need only ``M``.
    """
    X = np.asarray(X, dtype=np.float64)
    if check_bool(center, "center"):
        X = X - X.mean(axis=-1, keepdims=True)
    d, n = X.shape[-2:]
    F = X / math.sqrt(n)
    if n <= d:
        return F
    R = np.linalg.qr(np.swapaxes(F, -1, -2), mode="r")
    return np.swapaxes(R, -1, -2).copy()
