"""Real dense networks in numpy: the plain simulation that the exact laws are checked against."""

from __future__ import annotations

import math

import numpy as np

from .._checks import check_integer
from .._progress import check_progress, progress_bar
from .._random import numpy_generator
from ..network import as_network

__all__ = ["check_inputs", "dense_squared_norms"]


def check_inputs(x0, input_width, name="x0"):
    """``x0`` as a finite ``(n_inputs, N_0)`` array of the network's input width (a vector is one input)."""
    try:
        if x0 is None or isinstance(x0, (str, bytes)):
            raise TypeError
        x = np.asarray(x0, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers (N_0,) or (n_inputs, N_0), "
                         f"got {type(x0).__name__}") from None
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"{name} must be a vector (N_0,) or an array (n_inputs, N_0), got shape {np.shape(x0)}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite")
    if input_width is not None and x.shape[1] != input_width:
        raise ValueError(f"{name} must have the network's input width {input_width}, got width {x.shape[1]}")
    return x


def dense_squared_norms(network, x0, n_networks: int, *, seed=None, chunk: int = 256, progress=None):
    """``|x^(l)|^2`` for ``l = 1..L`` in ``n_networks`` independently drawn real networks.

    Every network draws its full weight matrices ``W_l ~ N(0, sigma_w2)`` and
    biases ``b_l ~ N(0, sigma_b2)`` and applies them to the same input ``x0``
    (Burkholz & Dubatovka 2019, §2.1); no torch needed.

    Parameters
    ----------
    network : Network, Layer, list of Layer or list of widths
        Anything :func:`sigdist.as_network` takes; i.i.d. Gaussian layers (other laws,
        sharing, batch norm and skips: :func:`sigdist.montecarlo.simulate`).
    x0 : array_like, shape (N_0,)
        The input vector.
    n_networks : int
        Number of independent networks (``>= 1``).
    seed : None, int, numpy SeedSequence or Generator, or torch.Generator, optional
        A numpy Generator is used as is (its stream continues).
    chunk : int >= 1
        Networks drawn at once (bounds the memory to ``chunk * max(N_l N_{l-1})`` floats).
    progress : bool or None
        A progress bar on stderr: ``None`` shows it once the work has taken 2 s, ``True`` at once,
        ``False`` never.

    Returns
    -------
    ndarray, shape (n_networks, L)
    """
    network = as_network(network)
    if x0 is not None and np.ndim(x0) != 1:
        raise ValueError(f"x0 must be one input vector (N_0,), got shape {np.shape(x0)}")
    x0 = check_inputs(x0, network.input_width)[0]
    for layer in network:
        if not layer.is_gaussian_iid:
            raise ValueError("dense_squared_norms simulates i.i.d. Gaussian layers; use sigdist.montecarlo.simulate")
    n_networks = check_integer(n_networks, "n_networks")
    chunk = check_integer(chunk, "chunk")
    progress = check_progress(progress)
    rng = numpy_generator(seed)  # default_rng(SeedSequence(int)): the numbers of default_rng(int)
    out = np.empty((n_networks, network.depth))
    with progress_bar(n_networks, "real networks", progress, unit="network") as bar:
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
            bar.update(b)
    return out
