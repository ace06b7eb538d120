"""The one description of a network that every analysis in sigdist reads.

A :class:`Network` is a sequence of :class:`Layer` objects. Layer ``l`` maps the
signal ``x^(l-1)`` of width ``N_{l-1}`` to ``x^(l) = phi(W x^(l-1) + b)`` of width
``N_l`` with i.i.d. ``W_ij ~ N(0, sigma_w2)`` and ``b_i ~ N(0, sigma_b2)``
(Burkholz & Dubatovka 2019, §2.1). The input width ``N_0`` never enters the law
of the squared norm (only ``|x^(0)|^2`` does), so a layer stores its own width
and its parameters; ``Network.input_width`` is kept for simulation.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Sequence

from .activations import Activation, get_activation

__all__ = ["Layer", "Network"]


def _check_width(width, name="width"):
    if isinstance(width, bool) or not isinstance(width, numbers.Integral):
        if isinstance(width, numbers.Real) and float(width).is_integer():
            width = int(width)
        else:
            raise ValueError(f"{name} must be an integer >= 1, got {width!r}")
    width = int(width)
    if width < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {width}")
    return width


def _check_positive_finite(value, name):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}") from None
    if not math.isfinite(v) or v <= 0.0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def _check_nonnegative_finite(value, name):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}") from None
    if not math.isfinite(v) or v < 0.0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


@dataclass(frozen=True)
class Layer:
    """One fully connected layer with Gaussian weights and biases.

    Parameters
    ----------
    width : int
        Number of units ``N_l`` of this layer (``>= 1``).
    sigma_w2 : float
        Variance of each weight entry (``> 0``, finite). He initialisation uses
        ``2 / fan_in``.
    sigma_b2 : float, optional
        Variance of each bias entry (``>= 0``, finite). Default 0.
    activation : str, Activation or callable, optional
        ``"relu"`` (default), ``"leaky_relu"`` (see ``negative_slope``),
        ``"linear"``, ``"tanh"``, ``"erf"``, ``"gelu"``, ``"abs"``, an
        :class:`~sigdist.activations.Activation`, or a vectorised callable.
    negative_slope : float, optional
        Slope ``a`` of ``leaky_relu`` on the negative half-line (default 0.01).

    Raises
    ------
    ValueError
        For a width that is not an integer ``>= 1``, ``sigma_w2 <= 0`` or not
        finite, ``sigma_b2 < 0`` or not finite, or an unknown activation.
    """

    width: int
    sigma_w2: float
    sigma_b2: float = 0.0
    activation: Activation = field(default="relu")
    negative_slope: float = 0.01

    def __post_init__(self):
        object.__setattr__(self, "width", _check_width(self.width))
        object.__setattr__(self, "sigma_w2", _check_positive_finite(self.sigma_w2, "sigma_w2"))
        object.__setattr__(self, "sigma_b2", _check_nonnegative_finite(self.sigma_b2, "sigma_b2"))
        act = get_activation(self.activation, negative_slope=self.negative_slope)
        object.__setattr__(self, "activation", act)

    def variance(self, y):
        """Pre-activation variance ``s = sigma_w2 * y + sigma_b2`` given ``|x^(l-1)|^2 = y``."""
        return self.sigma_w2 * y + self.sigma_b2


class Network:
    """A fully connected network: an input width and a sequence of layers.

    Parameters
    ----------
    layers : sequence of Layer
        The layers ``1..L`` (at least one).
    input_width : int, optional
        ``N_0``. Only simulation needs it; the laws of ``|x^(l)|^2`` depend on the
        input only through ``|x^(0)|^2``.

    Examples
    --------
    >>> from sigdist import Network
    >>> net = Network.he([784, 200, 200])
    >>> [(layer.width, round(layer.sigma_w2, 6)) for layer in net]
    [(200, 0.002551), (200, 0.01)]
    """

    def __init__(self, layers: Sequence[Layer], input_width: int | None = None):
        layers = list(layers)
        if len(layers) == 0:
            raise ValueError("layers must hold at least one Layer (depth >= 1), got an empty network")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise ValueError(f"layers[{i}] must be a sigdist.Layer, got {type(layer).__name__}")
        self.layers = tuple(layers)
        self.input_width = None if input_width is None else _check_width(input_width, "input_width")

    @classmethod
    def he(cls, widths: Sequence[int], activation="relu", sigma_b2: float = 0.0):
        """He initialisation: ``widths = [N_0, N_1, ..., N_L]``, ``sigma_w2 = 2 / N_{l-1}``."""
        widths = [_check_width(w, f"widths[{i}]") for i, w in enumerate(widths)]
        if len(widths) < 2:
            raise ValueError(f"widths must list N_0 and at least one layer width (length >= 2), got {widths}")
        layers = [Layer(widths[i], 2.0 / widths[i - 1], sigma_b2, activation) for i in range(1, len(widths))]
        return cls(layers, input_width=widths[0])

    @classmethod
    def constant(cls, width: int, depth: int, sigma_w2: float, sigma_b2: float = 0.0, activation="relu"):
        """``depth`` identical layers of ``width`` units (the input width is ``width`` too)."""
        depth = _check_width(depth, "depth")
        layer = Layer(width, sigma_w2, sigma_b2, activation)
        return cls([layer] * depth, input_width=layer.width)

    @property
    def depth(self) -> int:
        return len(self.layers)

    @property
    def widths(self) -> list[int]:
        return [layer.width for layer in self.layers]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Network(self.layers[index])
        return self.layers[index]

    def __repr__(self):
        body = ", ".join(
            f"({l.width}, {l.sigma_w2:.4g}, {l.sigma_b2:.4g}, {l.activation.name})" for l in self.layers
        )
        return f"Network(depth={self.depth}, layers=[{body}])"


def check_input_norm(y0, name="y0"):
    """Validate a squared input norm: finite and ``>= 0``."""
    return _check_nonnegative_finite(y0, name)
