r"""Rank-increasing pre-training (Daneshmand et al. 2020, §4 and App. G): layer-wise gradient ascent on r(H).

Needs torch (autograd differentiates :func:`sigdist.rank.rank_bound`).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._rank_checks import check_matrix
from .activations import get_activation
from .rank import rank_bound

__all__ = ["maximize_rank_bound"]


def maximize_rank_bound(weights, x0, *, n_iter=25, lr=1e-2, activation="relu"):
    r"""Rank-increasing pre-training (§4, App. G): layer by layer, gradient ascent on :math:`r(H_\ell)`.

    For :math:`\ell = 1..L`, with :math:`H_\ell = \phi(W_\ell H_{\ell-1})` and the earlier layers fixed,
    ``n_iter`` Adam steps increase :func:`sigdist.rank.rank_bound` of :math:`H_\ell` (eq. 4, differentiated
    by torch autograd). ``r`` is invariant to the scale of :math:`W_\ell`, so ``lr`` is relative to the
    entries' size. The paper's App. G uses plain (stochastic) gradient ascent; Adam reaches the same plateau
    in fewer steps.

    Parameters
    ----------
    weights : sequence of array_like or torch.Tensor, shapes (N_l, N_{l-1})
        Initial weights (not modified).
    x0 : array_like or torch.Tensor, shape (N_0, N)
        The batch :math:`H_0` (columns are inputs).
    n_iter : int >= 0
    lr : float > 0
    activation : str, Activation or callable
        ``phi`` from the activation registry (:mod:`sigdist.activations`), applied in its torch form.

    Returns
    -------
    new_weights : list of torch.Tensor
    r_before, r_after : ndarray, shape (L,)
        :math:`r(H_\ell)` with the initial weights (propagated through the initial network) and after
        pre-training (propagated through the pre-trained one).
    """
    import torch

    if isinstance(n_iter, bool) or not isinstance(n_iter, numbers.Integral) or n_iter < 0:
        raise ValueError(f"n_iter must be an integer >= 0, got {n_iter!r}")
    if isinstance(lr, bool) or not (isinstance(lr, numbers.Real) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    phi = get_activation(activation).torch
    X = torch.as_tensor(check_matrix(x0, "x0"), dtype=torch.float64)
    # detach: weights may be nn.Parameters; pre-training starts new leaves from their values
    weights = [torch.as_tensor(check_matrix(w, f"weights[{i}]"), dtype=torch.float64).detach().clone()
               for i, w in enumerate(weights)]
    if not weights:
        raise ValueError("weights must hold at least one layer (depth >= 1)")
    width = X.shape[0]
    for i, w in enumerate(weights):
        if w.ndim != 2 or w.shape[1] != width:
            raise ValueError(f"weights[{i}] must have shape (N_{i + 1}, {width}), got {tuple(w.shape)}")
        if not bool(w.any()):
            raise ValueError(f"weights[{i}] is all zero: r(H) of its output is undefined")
        width = w.shape[0]
    with torch.no_grad():
        H, before = X, []
        for w in weights:
            H = phi(w @ H)
            before.append(float(rank_bound(H)))
    H, after, trained = X, [], []
    for w in weights:
        w = w.clone().requires_grad_(True)
        opt = torch.optim.Adam([w], lr=lr * float(w.detach().abs().mean()))
        for _ in range(n_iter):
            opt.zero_grad()
            (-rank_bound(phi(w @ H))).backward()
            opt.step()
        w = w.detach()
        with torch.no_grad():
            H = phi(w @ H)
            after.append(float(rank_bound(H)))
        trained.append(w)
    return trained, np.array(before), np.array(after)
