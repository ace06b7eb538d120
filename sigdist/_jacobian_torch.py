r"""Jacobians of real random networks in torch: spectra by explicit products, Jacobian-vector products by autodiff.

The parameters come from :func:`sigdist._torch_io.draw_weights` and :func:`~sigdist._torch_io.draw_biases`,
the one construction of a random network (Gaussian, GSM and looks-linear orthogonal sharing included),
layer after layer from one generator; the inputs are drawn after them. ``J = D_L W_L ... D_1 W_1`` with
``D_l = diag(phi'(h_l))`` taken by torch's autograd of the activation, for ``n`` networks at once
(batched matrix products, on CUDA when ``device="auto"`` finds one).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch

from ._checks import check_input_norm, check_integer
from ._device import resolve_device
from ._random import torch_generator
from ._result import Result
from ._torch_io import draw_biases, draw_weights
from .network import as_network

__all__ = ["JacobianSpectrum", "jacobian_spectrum", "jvp_monte_carlo"]


def _check_plain(network):
    network = as_network(network)
    if network.input_width is None:
        raise ValueError("network must know its input_width N_0 (Network(layers, input_width=N_0))")
    for i, layer in enumerate(network):
        if layer.batch_norm or layer.residual:
            raise ValueError(f"layers[{i}] has batch norm or a skip connection: the Jacobian routines take plain "
                             "fully connected layers")
        if layer.activation.torch_phi is None:
            raise ValueError(f"layers[{i}] has activation {layer.activation.name!r} without a torch form: "
                             "autograd cannot differentiate it")
    return network


INITS = ("network", "orthogonal")


def _parameters(network, n, gen, device, dtype, init="network"):
    params, fan_in = [], network.input_width
    for layer in network:
        if init == "orthogonal" and layer.sharing == "none":
            layer = dataclasses.replace(layer, weight_law="orthogonal")
        w = draw_weights(layer, n, fan_in, gen, device).to(dtype)
        b = draw_biases(layer, n, gen, device)
        params.append((w, None if b is None else b.to(dtype)))
        fan_in = layer.width
    return params


def _unit_rows(n, width, gen, device, dtype):
    g = torch.randn((n, width), generator=gen, dtype=torch.float64, device=device)
    return (g / torch.linalg.vector_norm(g, dim=1, keepdim=True)).to(dtype)


def _layer_with_derivative(layer, h):
    with torch.enable_grad():
        hh = h.detach().requires_grad_(True)
        out = layer.activation.torch(hh)
        (d,) = torch.autograd.grad(out.sum(), hh)
    return out.detach(), d


@dataclass(frozen=True, repr=False)
class JacobianSpectrum(Result):
    r"""Squared singular values of ``J = dx^(L)/dx^(0)`` of ``n_networks`` real networks, with spectral moments.

    Attributes
    ----------
    squared_singular_values : ndarray, shape (n_networks, N_0)
        The eigenvalues of ``J^T J`` per network, in decreasing order (zeros where ``N_L < N_0``).
    first_moment, second_moment : float
        :math:`\frac1{N_0}\mathrm{tr}(J^TJ)` and :math:`\frac1{N_0}\mathrm{tr}((J^TJ)^2)` averaged over networks.
    first_moment_se, second_moment_se : float
        Their standard errors over the networks.
    device : str
        Where the products ran.
    """

    squared_singular_values: np.ndarray
    first_moment: float
    first_moment_se: float
    second_moment: float
    second_moment_se: float
    device: str

    _dims = {"squared_singular_values": ("network", "eigen")}

    @property
    def n_networks(self) -> int:
        return self.squared_singular_values.shape[0]


def jacobian_spectrum(network, n_networks=100, *, y0=1.0, seed=None, init="network", device="auto", dtype=None):
    r"""Squared singular values of the input-output Jacobian of ``n_networks`` real random networks.

    Each network is drawn as :meth:`sigdist.Network.to_torch` draws it (with ``n_networks = 1`` and an
    integer seed, exactly its weights); its input is ``sqrt(y0)`` times a uniform unit vector, drawn
    after the weights. ``J`` is built as the explicit product ``D_L W_L ... D_1 W_1`` (batched), and its
    squared singular values come from ``torch.linalg.svdvals``.

    Parameters
    ----------
    network : Network, Layer, list of Layers or list of widths
        Plain layers (no batch norm, no skip connection); any sharing, weight law, activation with a torch form.
    n_networks : int
        Number of drawn networks (``>= 2``).
    y0 : float
        ``|x^(0)|^2`` (enters through the activation pattern when there are biases or non-homogeneous ``phi``).
    seed : optional
        Any seed sigdist takes.
    init : {"network", "orthogonal"}
        ``"network"``: the weights the spec says (its ``weight_law``, e.g. ``"orthogonal"``; GSM,
        looks-linear). ``"orthogonal"``: a shorthand for every layer without sharing taking
        ``weight_law="orthogonal"`` (``sqrt(sigma_w2 max(N_l, N_{l-1}))`` times a Haar-random
        (semi-)orthogonal matrix; Pennington et al.'s orthogonal initialisation, e.g. ``sigma_w2 = 2 / N``
        for relu).
    device : str
        ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ``"cuda:k"``.
    dtype : torch.dtype, optional
        Default float64.

    Returns
    -------
    JacobianSpectrum
    """
    network = _check_plain(network)
    check_integer(n_networks, "n_networks", 2)
    y0 = check_input_norm(y0, "y0")
    if init not in INITS:
        raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
    dev = resolve_device(device)
    dtype = torch.float64 if dtype is None else dtype
    gen = torch_generator(seed, dev)
    n0 = network.input_width
    with torch.no_grad():
        params = _parameters(network, n_networks, gen, dev, dtype, init)
        x = math.sqrt(y0) * _unit_rows(n_networks, n0, gen, dev, dtype)
        jac = torch.eye(n0, dtype=dtype, device=dev).expand(n_networks, n0, n0)
        for layer, (w, b) in zip(network, params):
            h = torch.bmm(w, x.unsqueeze(2)).squeeze(2)
            if b is not None:
                h = h + b
            x, d = _layer_with_derivative(layer, h)
            jac = d.unsqueeze(2) * torch.bmm(w, jac)
        s = torch.linalg.svdvals(jac) ** 2
        if s.shape[1] < n0:
            s = torch.cat([s, torch.zeros((n_networks, n0 - s.shape[1]), dtype=dtype, device=dev)], dim=1)
        s = s.to(torch.float64).cpu().numpy()
    m1, m2 = s.mean(axis=1), (s * s).mean(axis=1)
    root = math.sqrt(n_networks)
    return JacobianSpectrum(s, float(m1.mean()), float(m1.std(ddof=1) / root), float(m2.mean()),
                            float(m2.std(ddof=1) / root), str(dev))


def jvp_monte_carlo(network, n_networks=10_000, *, y0=1.0, u_cos=0.0, seed=None, device="auto", chunk=20_000):
    r"""``|x^(L)|^2`` and ``|J u|^2`` of real random networks, by torch's forward-mode autodiff (``torch.func.jvp``).

    Per network: parameters as :func:`jacobian_spectrum` draws them, ``x^(0) = sqrt(y0) e`` and the unit
    direction ``u = u_cos e + sqrt(1 - u_cos^2) f`` with ``e, f`` orthonormal and uniformly random.

    Returns
    -------
    y, u2 : ndarray, shape (n_networks,)
        ``|x^(L)|^2`` and ``|J u|^2`` (float64).
    """
    network = _check_plain(network)
    check_integer(n_networks, "n_networks", 2)
    check_integer(chunk, "chunk")
    y0 = check_input_norm(y0, "y0")
    n0 = network.input_width
    if abs(u_cos) < 1 and n0 < 2:
        raise ValueError("u_cos must be +-1 for an input width of 1 (no direction orthogonal to x0)")
    dev = resolve_device(device)
    gen = torch_generator(seed, dev)
    dtype = torch.float64
    ys, us = [], []
    for start in range(0, n_networks, chunk):
        m = min(chunk, n_networks - start)
        params = _parameters(network, m, gen, dev, dtype)
        e = _unit_rows(m, n0, gen, dev, dtype)
        f = torch.randn((m, n0), generator=gen, dtype=dtype, device=dev)
        f = f - (f * e).sum(1, keepdim=True) * e
        f = f / torch.linalg.vector_norm(f, dim=1, keepdim=True)
        u = u_cos * e + math.sqrt(max(1.0 - u_cos * u_cos, 0.0)) * f

        def forward(x, params=params):
            for layer, (w, b) in zip(network, params):
                h = torch.bmm(w, x.unsqueeze(2)).squeeze(2)
                x = layer.activation.torch(h if b is None else h + b)
            return x

        out, tangent = torch.func.jvp(forward, (math.sqrt(y0) * e,), (u,))
        ys.append((out * out).sum(1).cpu().numpy())
        us.append((tangent * tangent).sum(1).cpu().numpy())
    return np.concatenate(ys), np.concatenate(us)
