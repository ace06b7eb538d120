"""Validators of the rank and batch-norm side's arguments: matrices ``H`` (numpy or torch), thresholds,
tolerances, residual strengths, float dtypes, and networks of identical batch-norm layers.

Each raises ``ValueError`` naming the parameter and its valid range before any work is done and returns
the value in its canonical type (see :mod:`sigdist._checks` for the package's general validators).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .network import as_network, constant_layer

__all__ = ["check_dtype", "check_gamma", "check_matrix", "check_rows", "check_tau", "check_tolerances",
           "identical_layer", "is_torch"]


def is_torch(x):
    """True for a torch tensor (checked by module name: torch is optional)."""
    return type(x).__module__.startswith("torch")


def check_matrix(H, name="H"):
    """A float array or tensor with at least two dimensions and finite entries."""
    if is_torch(H):
        import torch

        if H.ndim < 2 or H.shape[-1] < 1 or H.shape[-2] < 1:
            raise ValueError(f"{name} must have shape (d, N) or (..., d, N) with d, N >= 1, got shape "
                             f"{tuple(H.shape)}")
        if not H.is_floating_point():
            H = H.to(torch.float64)
        if not bool(torch.isfinite(H).all()):
            raise ValueError(f"{name} has non-finite entries (nan or inf)")
        return H
    try:
        H = np.asarray(H, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers of shape (d, N) or (..., d, N), got {H!r}") from None
    if H.ndim < 2:
        raise ValueError(f"{name} must have shape (d, N) or (..., d, N), got shape {H.shape}")
    if H.shape[-1] < 1 or H.shape[-2] < 1:
        raise ValueError(f"{name} must have d >= 1 rows and N >= 1 columns, got shape {H.shape}")
    if not np.isfinite(H).all():
        bad = np.argwhere(~np.isfinite(H))[0]
        raise ValueError(f"{name} has a non-finite entry at index {tuple(int(i) for i in bad)}")
    return H


def check_rows(H, name="H"):
    """BN divides each row by its root mean square: refuse zero rows, naming the first."""
    norms = np.einsum("...ij,...ij->...i", H, H)
    zero = np.argwhere(norms == 0)
    if zero.size:
        where = tuple(int(i) for i in zero[0])
        raise ValueError(f"{name} has an all-zero row at index {where}: batch norm divides by the row norm")


def check_tau(tau, name="tau"):
    """A soft-rank threshold in ``[0, 1]``."""
    if isinstance(tau, bool) or not isinstance(tau, numbers.Real) or not (0.0 <= tau <= 1.0):
        raise ValueError(f"{name} must be a number in [0, 1], got {tau!r}")
    return float(tau)


def check_tolerances(rtol, atol):
    """``rtol`` in [0, 1) and ``atol`` >= 0, both finite numbers (for :func:`sigdist.rank.numerical_rank`)."""
    for value, name in ((rtol, "rtol"), (atol, "atol")):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if rtol >= 1:
        raise ValueError(f"rtol must be in [0, 1), got {rtol!r}")


def check_gamma(gamma, name="gamma"):
    """A residual strength ``> 0`` (``math.inf``: no skip connection)."""
    if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or math.isnan(gamma) or gamma <= 0:
        raise ValueError(f"{name} must be a number > 0 (math.inf for no skip connection), got {gamma!r}")
    return float(gamma)


def check_dtype(dtype, name="dtype"):
    """``"float64"`` or ``"float32"`` from a numpy or torch float dtype (or its name)."""
    text = str(dtype).replace("torch.", "")
    text = {"<class 'numpy.float64'>": "float64", "<class 'numpy.float32'>": "float32"}.get(text, text)
    if text not in ("float64", "float32"):
        raise ValueError(f"{name} must be float64 or float32, got {dtype!r}")
    return text


def identical_layer(network, name="network", *, batch_norm, activations=("linear",), min_width=2):
    """The one square layer of a network whose layers are all the same, checked for the rank chains.

    Parameters
    ----------
    network : anything :func:`sigdist.as_network` takes
    name : str
        The parameter's name in error messages.
    batch_norm : bool
        The value every layer's ``batch_norm`` must have.
    activations : tuple of str
        Activation names the analysis supports.
    min_width : int
        Smallest width the analysis supports.

    Returns
    -------
    (Network, Layer)
    """
    network = as_network(network, name)
    layer = constant_layer(network, name)  # one Markov chain step, repeated
    if layer.batch_norm != batch_norm:
        hint = ("(Network.bn_chain(width, depth, gamma) builds one)" if batch_norm
                else "(the Lyapunov spectrum is that of the product of the layers' matrices)")
        raise ValueError(f"{name} must have layers with batch_norm={batch_norm} {hint}, "
                         f"got batch_norm={layer.batch_norm}")
    if layer.activation.name not in activations:
        raise ValueError(f"{name} must have layers with activation in {activations}, got "
                         f"activation={layer.activation.name!r}")
    if layer.width < min_width:
        raise ValueError(f"{name} must have layers of width >= {min_width}, got width={layer.width}")
    if layer.sigma_b2 != 0:
        raise ValueError(f"{name} must have layers without bias (sigma_b2 = 0), got sigma_b2={layer.sigma_b2}")
    if layer.sharing != "none":
        raise ValueError(f"{name} must have layers without parameter sharing, got sharing={layer.sharing!r}")
    if network.input_width not in (None, layer.width):
        raise ValueError(f"{name} must map its width to itself (square layers, one chain step each): input_width "
                         f"{network.input_width} differs from the width {layer.width}")
    return network, layer
