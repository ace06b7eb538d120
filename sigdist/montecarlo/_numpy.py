"""Real dense networks in numpy: the plain simulation that the exact laws are checked against."""

from __future__ import annotations

import math

import numpy as np

from .._checks import check_integer, check_seed
from ..network import Network

__all__ = ["check_inputs", "dense_squared_norms"]


def check_inputs(inputs, input_width):
    """Inputs as a finite ``(n_inputs, N_0)`` array of the network's input width (a vector is one input)."""
    x = np.asarray(inputs, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"inputs must be a vector (N_0,) or an array (n_inputs, N_0), got shape {np.shape(inputs)}")
    if not np.all(np.isfinite(x)):
        raise ValueError("inputs must be finite")
    if input_width is not None and x.shape[1] != input_width:
        raise ValueError(f"inputs must have the network's input width {input_width}, got width {x.shape[1]}")
    return x


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
    chunk : int >= 1
        Networks drawn at once (bounds the memory to ``chunk * max(N_l N_{l-1})`` floats).

    Returns
    -------
    ndarray, shape (n_networks, L)
    """
    if not isinstance(network, Network):
        raise ValueError(f"network must be a sigdist.Network, got {type(network).__name__}")
    if np.ndim(x0) != 1:
        raise ValueError(f"x0 must be one input vector (N_0,), got shape {np.shape(x0)}")
    x0 = check_inputs(x0, network.input_width)[0]
    for layer in network:
        if not layer.is_gaussian_iid:
            raise ValueError("dense_squared_norms simulates i.i.d. Gaussian layers; use sigdist.montecarlo.simulate")
    n_networks = check_integer(n_networks, "n_networks")
    chunk = check_integer(chunk, "chunk")
    rng = np.random.default_rng(check_seed(seed))
    out = np.empty((n_networks, network.depth))
    for start in range(0, n_networks, chunk):
        b = min(chunk, n_networks - start)
        x = np.broadcast_to(x0, (b, x0.size))
        for l, layer in enumerate(network):
            w = rng.standard_normal((b, layer.width, x.shape[1])) * math.sqrt(layer.sigma_w2)
            h = np.einsum("bij,bj->bi", w, x)
            if layer.sigma_b2 > 0:
                h += rng.standard_normal((b, layer.width)) * math.sqrt(layer.sigma_b2)
            x = layer.activation.checked(h)
            out[start:start + b, l] = np.einsum("bi,bi->b", x, x)
    return out
