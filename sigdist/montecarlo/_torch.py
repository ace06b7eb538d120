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

from dataclasses import dataclass, field

import numpy as np
import torch

from .._checks import check_integer
from ..empirical import EmpiricalLaw
from .._device import resolve_device
from .._progress import check_progress, progress_bar
from .._random import torch_generator
from .._result import Result
from .._torch_io import batch_normalise, draw_biases, draw_weights
from ..network import ResidualNetwork, as_network
from ._numpy import check_inputs

__all__ = ["Simulation", "simulate"]

_DEFAULT_MEMORY = 256 * 2**20  # bytes of weights drawn at once


@dataclass(frozen=True, repr=False, eq=False)
class Simulation(Result):
    """Result of :func:`simulate`: numpy arrays indexed ``[network, layer - 1, input, ...]``.

    Attributes
    ----------
    squared_norms : ndarray, shape (n_networks, L, n_inputs)
        ``|x^(l)|^2`` of every drawn network, layer and input (dims ``network, layer, input``).
    dots : ndarray, shape (n_networks, L, n_inputs, n_inputs) or None
        Gram matrices ``<x_i, x_j>`` (for two or more inputs; dims ``network, layer, input, input2``).
    cosines : ndarray, same shape as ``dots``, or None
        ``<x_i, x_j> / (|x_i| |x_j|)``, NaN where a signal is exactly 0.
    activations : dict {layer: ndarray (n_networks, n_inputs, N_l)}
        The recorded layers' activations.
    method : str
        ``"full"`` or ``"reduced"``.
    device : str
    """

    squared_norms: np.ndarray
    dots: np.ndarray | None = None
    cosines: np.ndarray | None = None
    activations: dict = field(default_factory=dict)
    method: str = "full"
    device: str = "cpu"

    @property
    def _dims(self):
        # dots and cosines exist only for two or more inputs
        dims = {"squared_norms": ("network", "layer", "input")}
        if self.dots is not None:
            dims.update(dots=("network", "layer", "input", "input2"), cosines=("network", "layer", "input", "input2"))
        return dims

    _coords = {"layer": lambda self: np.arange(1, self.depth + 1)}

    @property
    def n_networks(self) -> int:
        return self.squared_norms.shape[0]

    @property
    def depth(self) -> int:
        return self.squared_norms.shape[1]

    def squared_norm_law(self, layer=None, input_index=0) -> EmpiricalLaw:
        """The empirical law of ``|x^(layer)|^2`` over the drawn networks, for one input.

        Parameters
        ----------
        layer : int, optional
            ``1..L`` (default: the last layer).
        input_index : int, optional
            Row of ``x0`` (default 0).

        Returns
        -------
        EmpiricalLaw
            With ``cdf_se`` and ``moment_se`` for comparison with an exact law.
        """
        depth, n_in = self.squared_norms.shape[1:]
        layer = depth if layer is None else layer
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 1 <= layer <= depth:
            raise ValueError(f"layer must be an integer in 1..{depth}, got {layer!r}")
        if isinstance(input_index, bool) or not isinstance(input_index, (int, np.integer)) or not (
                0 <= input_index < n_in):
            raise ValueError(f"input_index must be an integer in 0..{n_in - 1}, got {input_index!r}")
        return EmpiricalLaw(self.squared_norms[:, layer - 1, input_index], label=f"|x^({layer})|^2")


def simulate(network, x0, n_networks, *, seed=None, device="auto", dtype=torch.float64, chunk=None,
             method="auto", record=(), memory=_DEFAULT_MEMORY, progress=None):
    """Simulate ``n_networks`` independently initialised networks on the same inputs.

    Parameters
    ----------
    network : Network, ResidualNetwork, Layer, list of Layer or list of widths
        Anything :func:`sigdist.as_network` takes (``input_width`` must be known).
    x0 : array_like, shape (N_0,) or (n_inputs, N_0)
        The input vector, or a batch of inputs (one per row; batch norm normalises over them).
    n_networks : int
        ``>= 1``.
    seed : None, int, numpy SeedSequence or Generator, or torch.Generator
        Same seed, same device: same numbers (:func:`sigdist._random.torch_generator`).
    device : {"auto", "cpu", "cuda", "cuda:k"} or torch.device
    dtype : torch.dtype
        ``torch.float64`` (default) or ``torch.float32``.
    chunk : int, optional
        Networks simulated at once; by default as many as keep the weights drawn at
        once under ``memory`` bytes. ``chunk=1`` draws network after network, each with
        the parameters ``Network.to_torch`` draws from the same stream.
    method : {"auto", "full", "reduced"}
        ``"auto"`` takes the exact reduced sampler whenever every layer has i.i.d.
        Gaussian weights (no sharing, batch norm or residual connections).
    record : sequence of int
        Layers (``1..L``) whose activations are returned.
    progress : bool or None
        A progress bar on stderr: ``None`` shows it once the work has taken 2 s, ``True`` at once,
        ``False`` never.

    Returns
    -------
    Simulation
    """
    network = as_network(network, residual=True)
    residual = isinstance(network, ResidualNetwork)
    if network.input_width is None:
        raise ValueError("network must know its input_width to be simulated (Network(layers, input_width=N_0))")
    n_networks = check_integer(n_networks, "n_networks")
    progress = check_progress(progress)
    x = check_inputs(x0, network.input_width)
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
    gen = torch_generator(seed, dev)
    n_in = x.shape[0]
    if chunk is None:
        chunk = _default_chunk(network, n_in, use_reduced, memory, dtype)
    else:
        chunk = check_integer(chunk, "chunk")
    xt = torch.as_tensor(x, dtype=dtype, device=dev)
    norms = np.empty((n_networks, depth, n_in))
    grams = np.empty((n_networks, depth, n_in, n_in)) if n_in > 1 else None
    acts = {r: [] for r in record}
    with progress_bar(n_networks, "real networks", progress, unit="network") as bar:
        for start in range(0, n_networks, chunk):
            b = min(chunk, n_networks - start)
            xb = xt.expand(b, n_in, xt.shape[1])
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
            bar.update(b)
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

def _run_full(network, x, gen):
    """Real networks: x (b, n_in, N_0) -> list of (b, n_in, N_l) activations.

    Parameters come from :func:`sigdist._torch_io.draw_weights` and ``draw_biases``, the code
    ``Network.to_torch`` builds its module with, in the same order (weights, then biases, layer by layer).
    """
    outputs = []
    b = x.shape[0]
    for layer in network:
        w = draw_weights(layer, b, x.shape[2], gen, x.device, x.dtype)
        bias = draw_biases(layer, b, gen, x.device, x.dtype)
        h = x @ w.transpose(1, 2)
        if layer.residual:  # Daneshmand et al. eq. 1: x + gamma W x
            h = x + layer.gamma * h
        if bias is not None:
            h = h + bias.unsqueeze(1)
        if layer.batch_norm:  # over the batch of inputs (axis 1)
            h = batch_normalise(h, dim=1)
        x = layer.activation.torch(h)
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
        x = layer.activation.torch(h)  # no batch norm here: the reduced sampler is for i.i.d. Gaussian layers
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
