"""Batched, seeded Monte Carlo of real networks in torch (CPU or CUDA).

Two samplers, both exact in law:

* ``"full"``: every network draws its weight matrices and applies them to the
  inputs (any weight law, parameter sharing, batch norm, residual networks).
* ``"reduced"``: for i.i.d. Gaussian layers, given the previous layer the
  pre-activations of a layer are ``N_l`` i.i.d. rows ``h_i ~ N(0, V)`` with
  ``V = sigma_w2 * G + sigma_b2`` and ``G`` the Gram matrix of the previous
  activations (Burkholz & Dubatovka Prop. 2, eq. 4). Sampling ``h`` directly
  costs ``N_l * n_inputs`` normals per layer instead of ``N_l * N_{l-1}``, with
  no approximation: the activations it returns have exactly the law of the
  real network's activations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from .._checks import check_integer
from .._random import torch_generator
from ..network import Layer, Network, ResidualNetwork
from ._numpy import check_inputs

__all__ = ["Simulation", "simulate", "resolve_device", "make_generator"]

_DEFAULT_MEMORY = 256 * 2**20  # bytes of weights drawn at once


def resolve_device(device) -> torch.device:
    """``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ``"cuda:k"`` or a ``torch.device``.

    A CUDA request on a machine without CUDA raises; there is no silent CPU fallback.
    """
    if isinstance(device, torch.device):
        dev = device
    elif isinstance(device, str):
        if device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        try:
            dev = torch.device(device)
        except RuntimeError:
            raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:k', got {device!r}") from None
    else:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:k', got {device!r}")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be a CPU or CUDA device, got {device!r}")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device={device!r} asks for CUDA, but torch.cuda.is_available() is False here")
    return dev


def make_generator(seed, device: torch.device) -> torch.Generator:
    """A ``torch.Generator`` on ``device`` from any seed sigdist accepts (see :mod:`sigdist._random`)."""
    return torch_generator(seed, device)


@dataclass
class Simulation:
    """Result of :func:`simulate`: numpy arrays indexed ``[network, layer - 1, input...]``.

    Attributes
    ----------
    squared_norms : ndarray, shape (n_networks, L, n_inputs)
    dots : ndarray, shape (n_networks, L, n_inputs, n_inputs) or None
        Gram matrices ``<x_i, x_j>`` (for two or more inputs).
    cosines : ndarray, same shape as ``dots``, or None
        ``<x_i, x_j> / (|x_i| |x_j|)``, NaN where a signal is exactly 0.
    activations : dict {layer: ndarray (n_networks, n_inputs, N_l)}
        The recorded layers' activations.
    method : str
        ``"full"`` or ``"reduced"``.
    device : str
    """

    squared_norms: np.ndarray
    dots: np.ndarray | None
    cosines: np.ndarray | None
    activations: dict = field(default_factory=dict)
    method: str = "full"
    device: str = "cpu"

    @property
    def n_networks(self) -> int:
        return self.squared_norms.shape[0]


def simulate(network, inputs, n_networks, *, seed=None, device="auto", dtype=torch.float64, chunk=None,
             method="auto", record=(), memory=_DEFAULT_MEMORY):
    """Simulate ``n_networks`` independently initialised networks on the same inputs.

    Parameters
    ----------
    network : Network or ResidualNetwork
    inputs : array_like, shape (N_0,) or (n_inputs, N_0)
    n_networks : int
        ``>= 1``.
    seed : int, torch.Generator or None
        Same seed, same device: same numbers.
    device : {"auto", "cpu", "cuda", "cuda:k"} or torch.device
    dtype : torch.dtype
        ``torch.float64`` (default) or ``torch.float32``.
    chunk : int, optional
        Networks simulated at once; by default as many as keep the weights drawn at
        once under ``memory`` bytes.
    method : {"auto", "full", "reduced"}
        ``"auto"`` takes the exact reduced sampler whenever every layer has i.i.d.
        Gaussian weights (no sharing, batch norm or residual connections).
    record : sequence of int
        Layers (``1..L``) whose activations are returned.

    Returns
    -------
    Simulation
    """
    n_networks = check_integer(n_networks, "n_networks")
    residual = isinstance(network, ResidualNetwork)
    if not residual and not isinstance(network, Network):
        raise ValueError(f"network must be a sigdist.Network or ResidualNetwork, got {type(network).__name__}")
    x = check_inputs(inputs, network.input_width)
    dev = resolve_device(device)
    if dtype not in (torch.float64, torch.float32):
        raise ValueError(f"dtype must be torch.float64 or torch.float32, got {dtype}")
    if method not in ("auto", "full", "reduced"):
        raise ValueError(f"method must be 'auto', 'full' or 'reduced', got {method!r}")
    exact_reduced = not residual and all(layer.is_gaussian_iid for layer in network)
    if method == "reduced" and not exact_reduced:
        raise ValueError("method='reduced' is exact only for i.i.d. Gaussian layers without sharing, "
                         "batch norm or residual connections")
    use_reduced = method == "reduced" or (method == "auto" and exact_reduced)
    depth = network.depth
    if isinstance(record, (int, np.integer)):
        record = (record,)
    for r in record:
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or not 1 <= r <= depth:
            raise ValueError(f"record must list integer layers in 1..{depth}, got {r!r}")
    record = tuple(int(r) for r in record)
    gen = make_generator(seed, dev)
    n_in = x.shape[0]
    if chunk is None:
        chunk = _default_chunk(network, n_in, use_reduced, memory, dtype)
    else:
        chunk = check_integer(chunk, "chunk")
    x0 = torch.as_tensor(x, dtype=dtype, device=dev)
    norms = np.empty((n_networks, depth, n_in))
    grams = np.empty((n_networks, depth, n_in, n_in)) if n_in > 1 else None
    acts = {r: [] for r in record}
    for start in range(0, n_networks, chunk):
        b = min(chunk, n_networks - start)
        xb = x0.expand(b, n_in, x0.shape[1])
        if residual:
            layer_outputs = _run_residual(network, xb, gen)
        elif use_reduced:
            layer_outputs = _run_reduced(network, xb, gen)
        else:
            layer_outputs = _run_full(network, xb, gen)
        for l, out in enumerate(layer_outputs):
            gram = out @ out.transpose(1, 2)
            norms[start:start + b, l] = torch.diagonal(gram, dim1=1, dim2=2).cpu().numpy()
            if grams is not None:
                grams[start:start + b, l] = gram.cpu().numpy()
            if l + 1 in acts:
                acts[l + 1].append(out.cpu().numpy())
    cosines = None
    if grams is not None:
        lengths = np.sqrt(norms)
        with np.errstate(invalid="ignore", divide="ignore"):
            cosines = grams / (lengths[..., :, None] * lengths[..., None, :])
    return Simulation(norms, grams, cosines, {r: np.concatenate(v) for r, v in acts.items()},
                      "reduced" if use_reduced else "full", str(dev))


def _default_chunk(network, n_in, reduced, memory, dtype):
    item = 4 if dtype == torch.float32 else 8
    layers = [l for m in network.modules for l in m] if isinstance(network, ResidualNetwork) else list(network)
    widths = [network.input_width or 1] + [l.width for l in layers]
    if reduced:
        per_network = max(w * n_in for w in widths) * 4
    else:
        per_network = max(a * b for a, b in zip(widths[:-1], widths[1:])) + max(widths) * n_in * 4
    return max(1, int(memory // (per_network * item)))


# -- samplers ------------------------------------------------------------------------------------

def _weights(layer: Layer, b, fan_in, gen, like):
    """Weight matrices (b, N_l, fan_in) of one layer, with its weight law and sharing scheme."""
    sigma = math.sqrt(layer.sigma_w2)
    if layer.sharing == "none":
        return sigma * _draw(layer.weight_law, (b, layer.width, fan_in), gen, like)
    if fan_in % 2:
        raise ValueError(f"sharing={layer.sharing!r} needs an even input width, got {fan_in}")
    rows, cols = layer.width // 2, fan_in // 2
    if layer.sharing == "gsm":
        w0 = sigma * _draw(layer.weight_law, (b, rows, cols), gen, like)
    else:  # looks_linear: Haar-random (semi-)orthogonal W0 by QR with the sign fix of Mezzadri (2007)
        g = torch.randn((b, max(rows, cols), min(rows, cols)), generator=gen, dtype=like.dtype, device=like.device)
        q, r = torch.linalg.qr(g)
        q = q * torch.sign(torch.diagonal(r, dim1=1, dim2=2)).unsqueeze(1)
        w0 = sigma * (q if rows >= cols else q.transpose(1, 2))
    top = torch.cat([w0, -w0], dim=2)
    return torch.cat([top, -top], dim=1)


def _draw(law, shape, gen, like):
    """Draws of the weight law's standard form (unit variance; the truncated normal 0.774)."""
    return law.sample_torch(gen, shape, like.dtype, like.device)


def _activate(layer: Layer, h):
    if layer.batch_norm:
        # BN over the batch of inputs (axis 1): divide each unit by its root mean square; a unit that is
        # exactly 0 on every input (a dead previous layer with sigma_b = 0) stays 0 instead of 0/0
        ms = torch.mean(h * h, dim=1, keepdim=True)
        h = torch.where(ms > 0, h / torch.sqrt(torch.where(ms > 0, ms, torch.ones_like(ms))), torch.zeros_like(h))
    return layer.activation.torch(h)


def _run_full(network, x, gen):
    """Real networks: x (b, n_in, N_0) -> list of (b, n_in, N_l) activations."""
    outputs = []
    b = x.shape[0]
    for layer in network:
        w = _weights(layer, b, x.shape[2], gen, x)
        h = x @ w.transpose(1, 2)
        if layer.sigma_b2 > 0:
            h = h + math.sqrt(layer.sigma_b2) * torch.randn((b, 1, layer.width), generator=gen, dtype=x.dtype,
                                                             device=x.device)
        x = _activate(layer, h)
        outputs.append(x)
    return outputs


def _run_reduced(network, x, gen):
    """Exact reduced sampler: rows of h ~ N(0, sigma_w2 G + sigma_b2) given the Gram matrix G."""
    outputs = []
    b, n_in = x.shape[0], x.shape[1]
    gram = x @ x.transpose(1, 2)
    eye = torch.eye(n_in, dtype=x.dtype, device=x.device)
    for layer in network:
        v = layer.sigma_w2 * gram + layer.sigma_b2
        factor = _psd_factor(v, eye)
        g = torch.randn((b, layer.width, n_in), generator=gen, dtype=x.dtype, device=x.device)
        h = (g @ factor.transpose(1, 2)).transpose(1, 2)  # (b, n_in, N_l), columns ~ N(0, V)
        x = _activate(layer, h)
        gram = x @ x.transpose(1, 2)
        outputs.append(x)
    return outputs


def _psd_factor(v, eye):
    """``F`` with ``F F^T = V`` for a batch of PSD matrices (Cholesky, eigen-factor where singular)."""
    if v.shape[-1] == 1:
        return torch.sqrt(torch.clamp(v, min=0.0))
    factor, info = torch.linalg.cholesky_ex(v)
    bad = info != 0
    if bool(bad.any()):  # parallel or vanishing signals: V is singular
        evals, evecs = torch.linalg.eigh(v[bad])
        factor = factor.clone()
        factor[bad] = evecs * torch.sqrt(torch.clamp(evals, min=0.0)).unsqueeze(-2)
    return factor


def _run_residual(network: ResidualNetwork, x, gen):
    """Hanin-Rolnick eq. 1: x_l = x_{l-1} + eta_l * module_l(x_{l-1}); one output per module."""
    outputs = []
    for module, eta in zip(network.modules, network.etas):
        inner = _run_full(module, x, gen)[-1]
        x = x + eta * inner
        outputs.append(x)
    return outputs
