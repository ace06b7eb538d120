r"""Rank measures of hidden representations (Daneshmand et al. 2020, eq. 3 and 4).

For :math:`H \in \mathbb{R}^{d \times N}` (width ``d``, batch ``N``) with singular
values :math:`\sigma_1 \ge \dots \ge \sigma_d` and :math:`M(H) = H H^\top / N`:

* soft rank (eq. 3): :math:`\mathrm{rank}_\tau(H) = \#\{i \le d : \sigma_i^2 / N \ge \tau\}`;
* the bound (eq. 4): :math:`r(H) = \mathrm{Tr}(M)^2 / \|M\|_F^2`, differentiable in ``H``,
  with :math:`\mathrm{rank}(H) \ge r(H)` (Lemma 1, Cauchy-Schwarz on the nonzero eigenvalues of ``M``);
* stable rank :math:`\|H\|_F^2 / \sigma_1^2`;
* numerical rank :math:`\#\{i : \sigma_i > \max(\mathrm{atol}, \mathrm{rtol}\,\sigma_1)\}` with both
  tolerances explicit. ``torch.matrix_rank`` (used for the paper's Fig. 1, 2, 5) took
  ``rtol = max(d, N) * eps(float32)``, about ``1.2e-7 max(d, N)`` (the paper's footnote 3 says
  ``d * 1e-7``): pass it explicitly to reproduce that convention.

Every function takes one matrix ``(d, N)`` or a stack ``(..., d, N)`` as a numpy array
(or a torch tensor: then the computation stays in torch, on the tensor's device, and
:func:`rank_bound` is differentiable by autograd) and returns one value per matrix.
Eigenvalues of ``M`` come from the smaller of the two Gram matrices ``H H^T / N`` and
``H^T H / N``, which share their nonzero eigenvalues.

Where ``H`` comes from: :mod:`sigdist.batchnorm` (BN steps), :mod:`sigdist.rank_chain` (the BN chain),
:mod:`sigdist.rank_profile` (real networks against depth); pre-training is :mod:`sigdist.pretraining`.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._rank_checks import check_matrix, check_tau, check_tolerances, is_torch

__all__ = ["numerical_rank", "rank_bound", "rank_bound_grad", "soft_rank", "soft_rank_from_gram", "stable_rank"]


def _rescaled(H, what):
    """``(H / c, c)`` with ``c`` the largest absolute entry of each matrix of the stack (shape ``(..., 1, 1)``).

    The scale-invariant measures are computed on ``H / c``: ``H H^T`` of entries near 1e-200 underflows to 0 and
    near 1e200 overflows to inf, which made them NaN. ``what`` names the measure for the error on a zero matrix.
    """
    if is_torch(H):
        scale = H.detach().abs().amax(dim=(-2, -1), keepdim=True)  # detached: r(H / c) is r(H) for any c > 0
        if bool((scale == 0).any()):
            raise ValueError(f"H is zero: {what} is undefined")
        return H / scale, scale
    scale = np.max(np.abs(H), axis=(-2, -1), keepdims=True)
    if np.any(scale == 0):
        raise ValueError(f"H is zero: {what} is undefined")
    return H / scale, scale


def _small_gram(H):
    """The smaller of ``H H^T / N`` and ``H^T H / N``: same nonzero spectrum as ``M(H)``."""
    n = H.shape[-1]
    Ht = H.transpose(-1, -2) if is_torch(H) else np.swapaxes(H, -1, -2)
    return (H @ Ht if H.shape[-2] <= n else Ht @ H) / n


def soft_rank(H, tau=0.5):
    r"""Soft rank :math:`\mathrm{rank}_\tau(H) = \#\{i: \sigma_i^2/N \ge \tau\}` (eq. 3).

    Parameters
    ----------
    H : array_like or torch.Tensor, shape (d, N) or (..., d, N)
    tau : float in [0, 1]
        Threshold on :math:`\sigma_i^2 / N`; ``tau = 0`` counts all ``d`` singular values.

    Returns
    -------
    int or ndarray of int (a tensor for tensor input)

    References
    ----------
    Daneshmand et al. (2020), eq. 3.
    """
    H = check_matrix(H)
    tau = check_tau(tau)
    d = H.shape[-2]
    if tau == 0.0:
        shape = H.shape[:-2]
        if is_torch(H):
            import torch

            return torch.full(shape, d, dtype=torch.int64, device=H.device)
        return np.full(shape, d, dtype=np.int64) if shape else d
    if is_torch(H):
        import torch

        return (torch.linalg.eigvalsh(_small_gram(H)) >= tau).sum(-1)
    count = (np.linalg.eigvalsh(_small_gram(H)) >= tau).sum(-1)
    return int(count) if np.ndim(count) == 0 else count.astype(np.int64)


def soft_rank_from_gram(M, tau):
    r"""Number of eigenvalues ``>= tau`` of symmetric ``M`` (a stack ``(..., n, n)``), by inertia.

    Sylvester's law of inertia: the number of positive eigenvalues of :math:`M - \tau I` equals that of
    the block-diagonal ``D`` in the Bunch-Kaufman factorisation :math:`P(M - \tau I)P^T = L D L^T`
    (LAPACK ``dsytrf``, about :math:`n^3/3` flops, 4-6 times cheaper than an eigenvalue solve).
    Each 2x2 block of ``D`` is indefinite (one positive, one negative eigenvalue). An eigenvalue equal
    to ``tau`` (probability zero in the chains) is counted as ``>= tau`` only if the factorisation
    meets an exactly zero pivot. So for a singular Gram matrix and ``tau = 0`` round-off decides the
    zero eigenvalues: eq. 3 counts them (all ``d``), which :func:`soft_rank` returns without factorising.
    """
    from scipy.linalg.lapack import dsytrf

    M = np.asarray(M, dtype=np.float64)
    if M.ndim < 2 or M.shape[-1] != M.shape[-2] or M.shape[-1] < 1:
        raise ValueError(f"M must be a square matrix or a stack (..., n, n) with n >= 1, got shape {M.shape}")
    if not np.isfinite(M).all():
        raise ValueError("M has non-finite entries (nan or inf)")
    if isinstance(tau, bool) or not isinstance(tau, numbers.Real) or not math.isfinite(tau):
        raise ValueError(f"tau must be a finite number, got {tau!r}")
    n = M.shape[-1]
    flat = M.reshape(-1, n, n)
    out = np.empty(flat.shape[0], dtype=np.int64)
    shifted = np.empty((n, n), order="F")
    shift = tau * np.eye(n)
    lwork = 64 * n  # the blocked factorisation: scipy's default workspace falls back to unblocked code (5x slower)
    for k in range(flat.shape[0]):
        np.subtract(flat[k], shift, out=shifted)
        factor, ipiv, info = dsytrf(shifted, lower=0, lwork=lwork, overwrite_a=1)
        if info < 0:
            raise RuntimeError(f"dsytrf rejected argument {-info}")
        single = ipiv > 0
        # 1x1 pivots carry their sign on the diagonal; every 2x2 block adds exactly one positive eigenvalue
        out[k] = int(np.count_nonzero(np.diagonal(factor)[single] >= 0.0)) + int(np.count_nonzero(~single)) // 2
    return out.reshape(M.shape[:-2]) if M.ndim > 2 else int(out[0])


def rank_bound(H):
    r"""The rank bound :math:`r(H) = \mathrm{Tr}(M)^2 / \|M\|_F^2`, :math:`M = H H^\top / N` (eq. 4).

    :math:`1 \le r(H) \le \mathrm{rank}(H)` (Lemma 1). With a torch tensor the result is differentiable
    (the paper's rank-increasing pre-training, §4, maximises it by gradient ascent).

    Parameters
    ----------
    H : array_like or torch.Tensor, shape (d, N) or (..., d, N)

    Returns
    -------
    float or ndarray (a tensor for tensor input)

    Raises
    ------
    ValueError
        If ``H`` is zero (``M = 0`` and ``r`` is undefined) or has non-finite entries.

    References
    ----------
    Daneshmand et al. (2020), eq. 4 and Lemma 1.
    """
    H, _ = _rescaled(check_matrix(H), "r(H) = Tr(M)^2 / ||M||_F^2")  # r is scale-invariant
    G = _small_gram(H)  # same trace and Frobenius norm as M
    if is_torch(H):
        trace = G.diagonal(dim1=-2, dim2=-1).sum(-1)
        frob2 = (G * G).sum((-1, -2))
        return trace * trace / frob2
    trace = np.trace(G, axis1=-2, axis2=-1)
    frob2 = np.einsum("...ij,...ij->...", G, G)
    out = trace * trace / frob2
    return float(out) if np.ndim(out) == 0 else out


def rank_bound_grad(H):
    r"""Closed-form gradient :math:`\partial r / \partial H` of :func:`rank_bound` (numpy).

    With :math:`t = \mathrm{Tr} M`, :math:`f = \|M\|_F^2`, :math:`M = H H^\top / N`:
    :math:`\partial t/\partial H = 2H/N`, :math:`\partial f/\partial H = 4 M H / N`, so

    .. math:: \frac{\partial r}{\partial H} = \frac{4t}{fN}\Big(H - \frac{t}{f} M H\Big).

    The same as torch autograd of :func:`rank_bound` (tested); it vanishes when ``M`` is a
    multiple of a projection (all nonzero eigenvalues equal: ``r`` is then maximal on that rank).
    A torch tensor is evaluated in numpy (use autograd on :func:`rank_bound` to stay in torch).
    """
    if is_torch(H):
        H = H.detach().cpu().numpy()
    # r(cH) = r(H), so the gradient at H is the gradient at H / c divided by c: computed there, in range
    H, scale = _rescaled(check_matrix(H), "r(H) = Tr(M)^2 / ||M||_F^2")
    n = H.shape[-1]
    Ht = np.swapaxes(H, -1, -2)
    M = H @ Ht / n
    t = np.trace(M, axis1=-2, axis2=-1)[..., None, None]
    f = np.einsum("...ij,...ij->...", M, M)[..., None, None]
    return 4.0 * t / (f * n) * (H - (t / f) * (M @ H)) / scale


def stable_rank(H):
    r"""Stable rank :math:`\|H\|_F^2 / \|H\|_2^2 = \sum_i \sigma_i^2 / \sigma_1^2`, in ``[1, rank(H)]``."""
    H, _ = _rescaled(check_matrix(H), "the stable rank")  # scale-invariant: squares of 1e200 overflowed
    if is_torch(H):
        import torch

        s = torch.linalg.svdvals(H)
        return (s * s).sum(-1) / (s[..., 0] ** 2)
    s = np.linalg.svd(H, compute_uv=False)
    out = (s * s).sum(-1) / s[..., 0] ** 2
    return float(out) if np.ndim(out) == 0 else out


def numerical_rank(H, *, rtol, atol=0.0):
    r"""Number of singular values :math:`\sigma_i > \max(\mathrm{atol}, \mathrm{rtol}\,\sigma_1)`.

    Both tolerances are explicit (no library default), so numpy and torch, CPU and GPU, count
    the same way. ``rtol = max(d, N) * 1.19e-7`` reproduces ``torch.matrix_rank`` on float32 as used
    in the paper; for float64 data ``max(d, N) * 2.2e-16`` is the analogous round-off level.

    Parameters
    ----------
    H : array_like or torch.Tensor, shape (d, N) or (..., d, N)
    rtol : float in [0, 1)
        Relative tolerance (times the largest singular value).
    atol : float >= 0
        Absolute tolerance.
    """
    check_tolerances(rtol, atol)
    H = check_matrix(H)
    if is_torch(H):
        import torch

        s = torch.linalg.svdvals(H)
        cut = torch.clamp(rtol * s[..., :1], min=atol)
        return (s > cut).sum(-1)
    s = np.linalg.svd(H, compute_uv=False)
    cut = np.maximum(atol, rtol * s[..., :1])
    count = (s > cut).sum(-1)
    return int(count) if np.ndim(count) == 0 else count.astype(np.int64)
