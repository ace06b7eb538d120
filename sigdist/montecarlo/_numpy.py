"""Real dense networks in numpy: the plain simulation that the exact laws are checked against."""

from __future__ import annotations

import math

import numpy as np

from ..network import Network

__all__ = ["dense_squared_norms"]


def dense_squared_norms(network: Network, x0, n_networks: int, *, seed=None, chunk: int = 256):
    """``|x^(l)|^2`` for ``l = 1..L`` in ``n_networks`` independently drawn real networks.

    Every network draws its full weight matrices ``W_l ~ N(0, sigma_w2)`` and
    biases ``b_l ~ N(0, sigma_b2)`` and applies them to the same input ``x0``.

    Parameters
    ----------
    network : Network
    x0 : array_like, shape (N_0,)
        The input vector.
    n_networks : int
        Number of independent networks (``>= 1``).
    seed : int or numpy.random.Generator, optional
    chunk : int
        Networks drawn at once (bounds the memory to ``chunk * max(N_l N_{l-1})`` floats).

    Returns
    -------
    ndarray, shape (n_networks, L)
    """
    x0 = np.asarray(x0, dtype=np.float64)
    if x0.ndim != 1 or not np.all(np.isfinite(x0)):
        raise ValueError("x0 must be a finite 1-d input vector")
    if network.input_width is not None and x0.size != network.input_width:
        raise ValueError(f"x0 must have the network's input width {network.input_width}, got {x0.size}")
    for layer in network:
        if not layer.is_gaussian_iid:
            raise ValueError("dense_squared_norms simulates i.i.d. Gaussian layers; use sigdist.montecarlo.simulate")
    n_networks = int(n_networks)
    if n_networks < 1:
        raise ValueError(f"n_networks must be an integer >= 1, got {n_networks}")
    rng = np.random.default_rng(seed)
    out = np.empty((n_networks, network.depth))
    for start in range(0, n_networks, chunk):
        b = min(chunk, n_networks - start)
        x = np.broadcast_to(x0, (b, x0.size))
        for l, layer in enumerate(network):
            w = rng.standard_normal((b, layer.width, x.shape[1])) * math.sqrt(layer.sigma_w2)
            h = np.einsum("bij,bj->bi", w, x)
            if layer.sigma_b2 > 0:
                h += rng.standard_normal((b, layer.width)) * math.sqrt(layer.sigma_b2)
            x = layer.activation(h)
            out[start:start + b, l] = np.einsum("bi,bi->b", x, x)
    return out
