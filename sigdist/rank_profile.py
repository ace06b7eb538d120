r"""Rank of the hidden representations of real random networks against depth (Daneshmand et al. 2020, Fig. 2).

For a batch :math:`H_0 = X` of ``N`` inputs (columns), layer :math:`\ell` of the network computes
:math:`H_\ell = \phi(\mathrm{BN}(\hat W_\ell H_{\ell-1}))` with batch norm, or
:math:`\phi(\hat W_\ell H_{\ell-1})` without, :math:`\hat W = I + \gamma W` (``gamma = inf``:
:math:`\hat W = W`). Each rank measure of :mod:`sigdist.rank` is recorded at every depth and averaged over
independently drawn networks, with standard errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._checks import check_bool, check_integer
from ._progress import check_progress, progress_bar
from ._rank_checks import check_matrix, check_tau, check_tolerances
from ._random import numpy_generator
from ._result import Result
from .batchnorm import residual_apply
from .network import as_network
from .rank import numerical_rank, rank_bound, soft_rank

__all__ = ["RankProfile", "hidden_rank_profile"]


@dataclass(frozen=True, eq=False, repr=False)
class RankProfile(Result):
    """Rank measures of ``H_l`` against depth ``l = 0..L``: means and standard errors over networks.

    Attributes
    ----------
    layer : ndarray of int, shape (L + 1,)
        ``0..L`` (0: the inputs).
    numerical_rank, numerical_rank_se : ndarray
        :func:`sigdist.rank.numerical_rank` with tolerance ``rtol``.
    rank_bound, rank_bound_se : ndarray
        :func:`sigdist.rank.rank_bound` ``r(H_l)`` (eq. 4).
    soft_rank, soft_rank_se : ndarray
        :func:`sigdist.rank.soft_rank` with threshold ``tau``, on ``H`` with rows scaled to mean square 1.
    rtol, tau : float
    n_networks : int
    """

    layer: np.ndarray
    numerical_rank: np.ndarray
    numerical_rank_se: np.ndarray
    rank_bound: np.ndarray
    rank_bound_se: np.ndarray
    soft_rank: np.ndarray
    soft_rank_se: np.ndarray
    rtol: float
    tau: float
    n_networks: int

    _dims = {name: ("layer",) for name in ("numerical_rank", "numerical_rank_se", "rank_bound", "rank_bound_se",
                                           "soft_rank", "soft_rank_se")}
    _coords = {"layer": "layer"}


def _check_profile_network(network):
    network = as_network(network)
    for i, layer in enumerate(network.layers):
        if not layer.activation.homogeneous:
            raise ValueError(f"network.layers[{i}] must have a positively homogeneous activation (linear, relu, "
                             f"leaky_relu, abs: the ranks are then scale-free), got {layer.activation.name!r}")
        if layer.sigma_b2 != 0:
            raise ValueError(f"network.layers[{i}] must have no bias (sigma_b2 = 0), got sigma_b2={layer.sigma_b2}")
        if layer.sharing != "none":
            raise ValueError(f"network.layers[{i}] must have no parameter sharing, got sharing={layer.sharing!r}")
    return network


def hidden_rank_profile(network, *, batch=None, n_networks=10, rtol, tau=0.5, center=False, x0=None, seed=None,
                        progress=None):
    r"""Rank of the hidden representations of real networks against depth (the paper's Fig. 2).

    Layer :math:`\ell` as the network says: :math:`H_\ell = \phi(\mathrm{BN}(\hat W_\ell H_{\ell-1}))` for a
    layer with ``batch_norm=True``, :math:`\phi(\hat W_\ell H_{\ell-1})` otherwise, with the layer's
    activation (positively homogeneous), residual strength ``gamma``, weight law and width. Weight scale does
    not change any rank measure then, so the pre-activations of a layer without BN are rescaled to unit
    Frobenius norm (the paper's :math:`\tilde H = B X / \|B\|`) to keep deep products in range. The soft rank
    is taken on ``H`` with rows scaled to mean square 1 (the BN scaling), which is what eq. 3 presumes.

    Parameters
    ----------
    network : anything :func:`sigdist.as_network` takes
        Bias-free layers without parameter sharing; :meth:`Network.bn_chain` builds the paper's.
    batch : int >= 1, optional
        ``N`` (default: the input width).
    n_networks : int >= 2
    rtol : float
        Relative tolerance of :func:`sigdist.rank.numerical_rank` (required: no hidden default).
    tau : float in [0, 1]
    center : bool
        Mean-centring in BN.
    x0 : array_like (input_width, N), optional
        The inputs; default i.i.d. N(0, 1) (a fresh draw per network).
    seed : None, int, SeedSequence, numpy or torch Generator
    progress : bool or None
        A progress bar on stderr: ``None`` shows it once the work has taken 2 s (one tick a layer), ``True`` at once,
        ``False`` never.

    Returns
    -------
    RankProfile
    """
    network = _check_profile_network(network)
    n0 = network.input_width if network.input_width is not None else network.layers[0].width
    n = n0 if batch is None else check_integer(batch, "batch", 1)
    K = check_integer(n_networks, "n_networks", 2)
    tau = check_tau(tau)
    check_tolerances(rtol, 0.0)
    center = check_bool(center, "center")
    progress = check_progress(progress)
    rng = numpy_generator(seed)
    if x0 is None:
        H = rng.standard_normal((K, n0, n))
    else:
        X = check_matrix(x0, "x0")
        if X.shape != (n0, n):
            raise ValueError(f"x0 must have shape (input_width, N) = ({n0}, {n}), got {X.shape}")
        H = np.broadcast_to(X, (K, n0, n)).copy()
    records = []

    def record(H):
        rms = np.sqrt(np.mean(H * H, axis=-1, keepdims=True))
        alive = np.where(rms > 0, rms, 1.0)  # a dead relu row has no scale to normalise; it stays zero
        scaled = H / alive
        records.append((numerical_rank(H, rtol=rtol), rank_bound(H), soft_rank(scaled, tau)))

    record(H)
    with progress_bar(network.depth, "ranks of hidden layers", progress, unit="layer") as bar:
        for i, layer in enumerate(network.layers):
            if layer.residual and H.shape[1] != layer.width:
                raise ValueError(f"network.layers[{i}] has a skip connection and must keep its input width "
                                 f"{H.shape[1]}, got width {layer.width}")
            W = layer.weight_law.sample(rng, (K, layer.width, H.shape[1]))
            # without a skip connection the scale drops out (homogeneous layers)
            if layer.residual and layer.sigma_w2 != 1.0:
                W *= math.sqrt(layer.sigma_w2)
            pre = residual_apply(W, H, layer.gamma)
            if layer.batch_norm:
                if center:
                    pre = pre - pre.mean(axis=-1, keepdims=True)
                rms = np.sqrt(np.mean(pre * pre, axis=-1, keepdims=True))
                if np.any(rms == 0):
                    raise FloatingPointError("a pre-activation row is zero: batch norm divides by it")
                pre = pre / rms
            else:
                pre = pre / np.linalg.norm(pre, axis=(-2, -1), keepdims=True)
            H = layer.activation(pre)
            if np.any(np.linalg.norm(H, axis=(-2, -1)) == 0):
                raise FloatingPointError("a network's representation became exactly zero (all relu units dead)")
            record(H)
            bar.update()
    num, rb, sr = (np.array([rec[j] for rec in records], dtype=np.float64) for j in range(3))
    se = lambda a: a.std(1, ddof=1) / math.sqrt(K)  # noqa: E731
    return RankProfile(layer=np.arange(network.depth + 1), numerical_rank=num.mean(1), numerical_rank_se=se(num),
                       rank_bound=rb.mean(1), rank_bound_se=se(rb), soft_rank=sr.mean(1), soft_rank_se=se(sr),
                       rtol=float(rtol), tau=tau, n_networks=K)
