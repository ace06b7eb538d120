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

import numpy as np

from ._checks import check_bool, check_nonnegative, check_positive, check_width
from .activations import Activation, get_activation
from .weights import get_weight_law

__all__ = ["Layer", "Network", "ResidualNetwork", "SHARING_SCHEMES", "as_network", "constant_layer"]

SHARING_SCHEMES = ("none", "gsm", "looks_linear")


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
    weight_law : {"gaussian", "uniform", "truncated_normal", "orthogonal"}, WeightLaw or callable, optional
        Law of the weights (:mod:`sigdist.weights`), all with variance ``sigma_w2`` except
        ``"truncated_normal"``: ``N(0, sigma_w2)`` cut at two standard deviations and not
        rescaled, as PyTorch's ``trunc_normal_(std=sigma, a=-2 sigma, b=2 sigma)``; its variance
        is ``TRUNCATED_NORMAL_VARIANCE_FACTOR * sigma_w2`` (0.774). ``"orthogonal"``: the whole
        matrix is ``sqrt(sigma_w2 max(N_l, N_{l-1}))`` times a Haar-random (semi-)orthogonal one
        (``torch.nn.init.orthogonal_`` with that gain; entries of variance ``sigma_w2``, not
        independent). A callable
        ``f(generator, shape) -> torch.Tensor`` returns symmetric draws of unit
        variance (they are scaled by ``sqrt(sigma_w2)``). Stored as a
        :class:`~sigdist.weights.WeightLaw`. Only the Monte Carlo engine, the batch-norm
        chain, the Jacobian spectra (:func:`sigdist.jacobian.jacobian_spectrum`) and the length
        moments read laws other than Gaussian (the length moments need i.i.d. entries: not
        ``"orthogonal"``); the exact laws refuse them (:func:`require_gaussian_iid`).
    sharing : {"none", "gsm", "looks_linear"}, optional
        Parameter sharing of Burkholz & Dubatovka §3: ``W = [[W0, -W0], [-W0, W0]]``
        with Gaussian ``W0`` (GSM) or ``W0 = sqrt(sigma_w2)`` times a uniformly random
        (semi-)orthogonal matrix ("looks-linear"). Needs even widths.
    batch_norm : bool, optional
        Normalise each pre-activation unit over the batch of inputs (Daneshmand et al.
        eq. 2, ``BN(H) = diag(H H^T / N)^{-1/2} H``) before the activation.
    gamma : float, optional
        Residual strength of Daneshmand et al. (2020), eq. 1: the layer's linear map is
        ``x -> x + gamma W x`` (needs the layer's input width to equal its width).
        ``math.inf`` (default): no skip connection, the map is ``W x``.

    Raises
    ------
    ValueError
        For a width that is not an integer ``>= 1``, ``sigma_w2 <= 0`` or not
        finite, ``sigma_b2 < 0`` or not finite, an unknown activation, weight law or
        sharing scheme, or an odd width with sharing.
    """

    width: int
    sigma_w2: float
    sigma_b2: float = 0.0
    activation: Activation = field(default="relu")
    negative_slope: float = 0.01
    weight_law: object = "gaussian"
    sharing: str = "none"
    batch_norm: bool = False
    gamma: float = math.inf

    def __post_init__(self):
        object.__setattr__(self, "width", check_width(self.width))
        object.__setattr__(self, "sigma_w2", check_positive(self.sigma_w2, "sigma_w2"))
        object.__setattr__(self, "sigma_b2", check_nonnegative(self.sigma_b2, "sigma_b2"))
        act = get_activation(self.activation, negative_slope=self.negative_slope)
        object.__setattr__(self, "activation", act)
        object.__setattr__(self, "weight_law", get_weight_law(self.weight_law))
        if self.sharing not in SHARING_SCHEMES:
            raise ValueError(f"sharing must be one of {', '.join(SHARING_SCHEMES)}, got {self.sharing!r}")
        if self.sharing != "none" and self.width % 2:
            raise ValueError(f"width must be even with sharing={self.sharing!r}, got {self.width}")
        object.__setattr__(self, "batch_norm", check_bool(self.batch_norm, "batch_norm"))
        if not (isinstance(self.gamma, (int, float)) and not isinstance(self.gamma, bool)) or not self.gamma > 0:
            raise ValueError(f"gamma must be a number > 0 or math.inf (no skip connection), got {self.gamma!r}")
        object.__setattr__(self, "gamma", float(self.gamma))

    @property
    def residual(self) -> bool:
        """True when the layer has a skip connection (finite ``gamma``)."""
        return math.isfinite(self.gamma)

    @property
    def is_gaussian_iid(self) -> bool:
        """True for i.i.d. Gaussian weights without sharing, batch norm or skip: the setting of Prop. 1."""
        return (self.weight_law.name == "gaussian" and self.sharing == "none" and not self.batch_norm
                and not self.residual)

    @property
    def weight_variance(self) -> float:
        """Actual variance of a weight entry (``sigma_w2`` except for the uncorrected truncated normal)."""
        return self.weight_law.variance_factor * self.sigma_w2

    def variance(self, y):
        """Pre-activation variance ``s = sigma_w2 * y + sigma_b2`` given ``|x^(l-1)|^2 = y``."""
        return self.sigma_w2 * y + self.sigma_b2

    def log_variance(self, log_y):
        """``log s`` from ``log y`` (``-inf`` for ``y = 0``), finite for ``y`` beyond the float64 range."""
        log_y = np.asarray(log_y, dtype=np.float64)
        log_w = math.log(self.sigma_w2) + log_y
        if self.sigma_b2 == 0.0:
            return log_w
        return np.logaddexp(log_w, math.log(self.sigma_b2))


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
        if isinstance(layers, Layer) or not hasattr(layers, "__iter__"):
            raise ValueError(f"layers must be a sequence of sigdist.Layer, got {layers!r}")
        layers = list(layers)
        if len(layers) == 0:
            raise ValueError("layers must hold at least one Layer (depth >= 1), got an empty network")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise ValueError(f"layers[{i}] must be a sigdist.Layer, got {type(layer).__name__}")
        self.layers = tuple(layers)
        self.input_width = None if input_width is None else check_width(input_width, "input_width")
        for i, layer in enumerate(layers):
            fan_in = self.input_width if i == 0 else layers[i - 1].width
            if layer.residual and fan_in is not None and fan_in != layer.width:
                raise ValueError(f"layers[{i}] has a skip connection (gamma={layer.gamma}) and must keep its input "
                                 f"width {fan_in}, got width {layer.width}")

    @classmethod
    def he(cls, widths: Sequence[int], activation="relu", sigma_b2: float = 0.0):
        """He initialisation: ``widths = [N_0, N_1, ..., N_L]``, ``sigma_w2 = 2 / N_{l-1}``."""
        widths = [check_width(w, f"widths[{i}]") for i, w in enumerate(widths)]
        if len(widths) < 2:
            raise ValueError(f"widths must list N_0 and at least one layer width (length >= 2), got {widths}")
        layers = [Layer(widths[i], 2.0 / widths[i - 1], sigma_b2, activation) for i in range(1, len(widths))]
        return cls(layers, input_width=widths[0])

    @classmethod
    def gsm(cls, widths: Sequence[int]):
        """Gaussian submatrix initialisation (§3): relu, ``sigma_w2 = 2 / N_{l-1}``, ``W = [[W0, -W0], [-W0, W0]]``.

        Every width must be even. With ``x = [a; b]`` the signal propagates as the
        linear network ``h_l = W0_l h_{l-1}`` of half widths started at ``h_0 = a - b``,
        and ``|x_l|^2 = |h_l|^2`` (see :meth:`reduced_linear`).
        """
        return cls._shared(widths, "gsm", lambda fan_in: 2.0 / fan_in)

    @classmethod
    def looks_linear(cls, widths: Sequence[int]):
        """Orthogonal "looks-linear" initialisation (§3): ``W0`` uniformly random orthogonal, ``sigma_w2 = 1``."""
        return cls._shared(widths, "looks_linear", lambda fan_in: 1.0)

    @classmethod
    def _shared(cls, widths, scheme, variance):
        widths = [check_width(w, f"widths[{i}]") for i, w in enumerate(widths)]
        if len(widths) < 2:
            raise ValueError(f"widths must list N_0 and at least one layer width (length >= 2), got {widths}")
        for i, w in enumerate(widths):
            if w % 2:
                raise ValueError(f"widths[{i}] must be even for {scheme} sharing, got {w}")
        layers = [Layer(widths[i], variance(widths[i - 1]), 0.0, "relu", sharing=scheme)
                  for i in range(1, len(widths))]
        return cls(layers, input_width=widths[0])

    def reduced_linear(self):
        """The linear network of half widths that a GSM network is, for ``h_0 = a - b`` (``x_0 = [a; b]``).

        ``|x_l|^2`` of the GSM network equals ``|h_l|^2`` of this linear network with
        i.i.d. Gaussian weights of the same variance (Burkholz & Dubatovka §3).
        """
        if not all(layer.sharing == "gsm" for layer in self.layers):
            raise ValueError("reduced_linear applies to networks whose every layer has sharing='gsm'")
        layers = [Layer(layer.width // 2, layer.sigma_w2, 0.0, "linear") for layer in self.layers]
        return Network(layers, None if self.input_width is None else self.input_width // 2)

    @classmethod
    def constant(cls, width: int, depth: int, sigma_w2: float, sigma_b2: float = 0.0, activation="relu"):
        """``depth`` identical layers of ``width`` units (the input width is ``width`` too)."""
        depth = check_width(depth, "depth")
        layer = Layer(width, sigma_w2, sigma_b2, activation)
        return cls([layer] * depth, input_width=layer.width)

    @classmethod
    def bn_chain(cls, width: int, depth: int = 1, gamma: float = math.inf, *, activation="linear",
                 weight_law="gaussian"):
        """The batch-norm chain of Daneshmand et al. (2020), eq. 1: ``H_l = phi(BN(H_{l-1} + gamma W_l H_{l-1}))``.

        ``depth`` identical square layers of ``width`` units with ``batch_norm=True``, weights of
        unit variance (their Definition 1) and residual strength ``gamma`` (``math.inf``: no skip).
        """
        depth = check_width(depth, "depth")
        layer = Layer(width, 1.0, 0.0, activation, weight_law=weight_law, batch_norm=True, gamma=gamma)
        return cls([layer] * depth, input_width=layer.width)

    @classmethod
    def from_torch(cls, module, *, input_width=None, sigma_w2=None, sigma_b2=None):
        """The spec of a real ``torch.nn.Sequential`` of Linear layers and supported activations.

        Each ``nn.Linear`` starts a layer (its width, whether it has a bias); the activation module
        after it (``ReLU``, ``LeakyReLU``, ``Tanh``, ``GELU``, ``Identity``) is its activation. The
        variances are the mean squares of the module's actual weight and bias entries unless given
        (one number, or one per layer). Details and examples: :func:`sigdist._torch_io.read_sequential`
        (torch is an optional extra, ``sigdist[mc]``).
        """
        from ._torch_io import read_sequential

        layers, n0 = read_sequential(module, input_width=input_width, sigma_w2=sigma_w2, sigma_b2=sigma_b2)
        return cls([Layer(**kwargs) for kwargs in layers], input_width=n0)

    def to_torch(self, seed=None, *, dtype=None, device="cpu"):
        """A real ``torch.nn.Sequential`` initialised as this spec says (the Monte Carlo engine's construction).

        Weights are ``sqrt(sigma_w2)`` times draws of the layer's weight law, biases ``N(0, sigma_b2)``
        (no bias when ``sigma_b2 = 0``), with the layer's sharing, batch norm and skip connection.
        ``seed=s`` gives the weights of the first network of
        ``montecarlo.simulate(network, x0, n, seed=s, method="full", chunk=1)``.
        Details: :func:`sigdist._torch_io.to_torch`.
        """
        from ._torch_io import to_torch

        return to_torch(self, seed=seed, dtype=dtype, device=device)

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
        # runs of identical layers are shown once with their count: a deep network's repr stays one line
        runs = []
        for layer in self.layers:
            if runs and runs[-1][0] == layer:
                runs[-1][1] += 1
            else:
                runs.append([layer, 1])
        parts = []
        for layer, count in runs[:6]:
            extra = "".join([f", {layer.weight_law.name}" if layer.weight_law.name != "gaussian" else "",
                             f", {layer.sharing}" if layer.sharing != "none" else "",
                             ", batch_norm" if layer.batch_norm else "",
                             f", gamma={layer.gamma:g}" if layer.residual else ""])
            text = f"({layer.width}, {layer.sigma_w2:.4g}, {layer.sigma_b2:.4g}, {layer.activation.name}{extra})"
            parts.append(f"{count} x {text}" if count > 1 else text)
        if len(runs) > 6:
            parts.append(f"... {len(runs) - 6} more runs")
        return f"Network(depth={self.depth}, input_width={self.input_width}, layers=[{', '.join(parts)}])"


class ResidualNetwork:
    """Residual network of Hanin & Rolnick (2018), eq. 1.

    ``N_0(x) = x``, ``N_l(x) = N_{l-1}(x) + eta_l * M_l(N_{l-1}(x))`` with residual
    modules ``M_l`` (each a :class:`Network` mapping width ``n`` to width ``n``)
    and scales ``eta_l >= 0``.

    Parameters
    ----------
    modules : sequence of Network
    etas : sequence of float
    """

    def __init__(self, modules: Sequence[Network], etas: Sequence[float]):
        modules = list(modules)
        etas = [float(e) for e in etas]
        if len(modules) == 0:
            raise ValueError("modules must hold at least one residual module (depth >= 1)")
        if len(etas) != len(modules):
            raise ValueError(f"etas must have one scale per module ({len(modules)}), got {len(etas)}")
        for i, e in enumerate(etas):
            if not (math.isfinite(e) and e >= 0):
                raise ValueError(f"etas[{i}] must be a finite number >= 0, got {e}")
        for i, m in enumerate(modules):
            if not isinstance(m, Network):
                raise ValueError(f"modules[{i}] must be a sigdist.Network")
            if m.input_width is None or m.layers[-1].width != m.input_width:
                raise ValueError(f"modules[{i}] must map a width to itself (input_width == last width)")
            if m.input_width != modules[0].input_width:
                raise ValueError(f"modules[{i}] has width {m.input_width}, modules[0] has {modules[0].input_width}")
        self.modules = tuple(modules)
        self.etas = tuple(etas)
        self.input_width = modules[0].input_width

    @classmethod
    def uniform(cls, width: int, hidden: Sequence[int], etas: Sequence[float]):
        """Modules ``width -> hidden... -> width`` with He weights (``2 / fan_in``), zero biases, relu."""
        module = Network.he([width, *hidden, width])
        return cls([module] * len(list(etas)), etas)

    @property
    def depth(self) -> int:
        return len(self.modules)


def as_network(network, name="network", *, residual=False):
    """The :class:`Network` that every analysis of sigdist reads, from what a user has at hand.

    Parameters
    ----------
    network : Network, ResidualNetwork, Layer, sequence of Layer, or sequence of int
        A sequence of integers ``[N_0, N_1, ..., N_L]`` means He initialisation of relu
        layers (:meth:`Network.he`); a single Layer is a network of depth 1.
    name : str, optional
        The parameter's name in error messages.
    residual : bool, optional
        Accept a :class:`ResidualNetwork` (returned as is); analyses of plain networks refuse it.

    Returns
    -------
    Network or ResidualNetwork

    Raises
    ------
    ValueError
        For anything else, an empty sequence, or a ResidualNetwork where ``residual=False``.

    Examples
    --------
    >>> from sigdist import Layer, as_network
    >>> as_network([784, 200, 10]).widths
    [200, 10]
    >>> as_network(Layer(100, 0.02)).depth
    1
    """
    if isinstance(network, Network):
        return network
    if isinstance(network, ResidualNetwork):
        if residual:
            return network
        raise ValueError(f"{name} must be a plain Network here (this analysis has no residual form), "
                         "got a ResidualNetwork")
    if isinstance(network, Layer):
        return Network([network])
    if isinstance(network, (list, tuple, np.ndarray)):
        items = list(network)
        if len(items) == 0:
            raise ValueError(f"{name} must have at least one layer (depth >= 1), got an empty sequence")
        if all(isinstance(x, Layer) for x in items):
            return Network(items)
        if all(isinstance(x, (numbers.Integral, np.integer)) and not isinstance(x, bool) for x in items):
            if len(items) < 2:
                raise ValueError(f"{name} as widths must list N_0 and at least one layer width (length >= 2), "
                                 f"got {items}")
            return Network.he(items)
    raise ValueError(f"{name} must be a sigdist.Network, a Layer, a list of Layers or a list of widths "
                     f"[N_0, ..., N_L], got {type(network).__name__}")


def constant_layer(network, name="network"):
    """The one layer of a network whose layers are all the same (a chain: stationary analyses, rank chains).

    Layers compare by their fields; built-in activations and weight laws are one object each, so layers
    built from the same names are equal (a user's callable is the same only as itself).
    """
    layers = as_network(network, name).layers
    first = layers[0]
    if any(layer != first for layer in layers):
        distinct = len({layer for layer in layers})
        raise ValueError(f"{name} must have identical layers (a Layer, or e.g. Network.constant(width, depth, "
                         f"sigma_w2, sigma_b2)); got {distinct} distinct layers")
    return first


def require_gaussian_iid(layer: "Layer"):
    """Raise unless the layer is in the setting of Prop. 1 (i.i.d. Gaussian weights, no sharing, no BN)."""
    if not layer.is_gaussian_iid:
        raise ValueError(
            "the exact laws need i.i.d. Gaussian weights without sharing or batch norm; got "
            f"weight_law={layer.weight_law.name!r}, sharing={layer.sharing!r}, batch_norm={layer.batch_norm}, "
            f"gamma={layer.gamma} "
            "(simulate it with sigdist.montecarlo.simulate; for GSM use Network.reduced_linear())")


def check_layer(layer, name="layer"):
    """Validate a :class:`Layer` argument (None or another object is refused by name, not by AttributeError)."""
    if not isinstance(layer, Layer):
        raise ValueError(f"{name} must be a sigdist.Layer, got {type(layer).__name__}")
    return layer


