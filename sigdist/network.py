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
import os
import tempfile
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .activations import Activation, get_activation

__all__ = ["Layer", "Network", "ResidualNetwork", "WEIGHT_LAWS", "SHARING_SCHEMES",
           "TRUNCATED_NORMAL_VARIANCE_FACTOR"]

WEIGHT_LAWS = ("gaussian", "uniform", "truncated_normal")
SHARING_SCHEMES = ("none", "gsm", "looks_linear")


def _truncated_normal_variance_factor(c=2.0):
    # Var of N(0, 1) conditioned on |g| <= c: 1 - 2 c phi(c) / (2 Phi(c) - 1)
    phi = math.exp(-0.5 * c * c) / math.sqrt(2 * math.pi)
    return 1.0 - 2.0 * c * phi / math.erf(c / math.sqrt(2.0))


#: Variance of N(0, 1) truncated to [-2, 2] (PyTorch's trunc_normal_ default cut): 0.77374...
TRUNCATED_NORMAL_VARIANCE_FACTOR = _truncated_normal_variance_factor(2.0)


_MAX_WIDTH = 10**8  # beyond this no computation here fits in memory


def _check_width(width, name="width"):
    if isinstance(width, bool):
        raise ValueError(f"{name} must be an integer >= 1, got {width!r}")
    if not isinstance(width, numbers.Integral):
        if isinstance(width, numbers.Real) and float(width).is_integer():
            width = int(width)
        else:
            raise ValueError(f"{name} must be an integer >= 1, got {width!r}")
    width = int(width)
    if not 1 <= width <= _MAX_WIDTH:
        raise ValueError(f"{name} must be an integer in [1, {_MAX_WIDTH}], got {width}")
    return width


def _check_positive_finite(value, name):
    if isinstance(value, (bool, str, bytes)):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}") from None
    if not math.isfinite(v) or v <= 0.0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def _check_nonnegative_finite(value, name):
    if isinstance(value, (bool, str, bytes)):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
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
    weight_law : {"gaussian", "uniform", "truncated_normal"} or callable, optional
        Law of the weights, all with variance ``sigma_w2`` except ``"truncated_normal"``:
        ``N(0, sigma_w2)`` cut at two standard deviations and not rescaled, as
        PyTorch's ``trunc_normal_(std=sigma, a=-2 sigma, b=2 sigma)``; its variance is
        ``TRUNCATED_NORMAL_VARIANCE_FACTOR * sigma_w2`` (0.774). A callable
        ``f(generator, shape) -> torch.Tensor`` returns symmetric draws of unit
        variance (they are scaled by ``sqrt(sigma_w2)``). Only the Monte Carlo engine
        reads laws other than Gaussian.
    sharing : {"none", "gsm", "looks_linear"}, optional
        Parameter sharing of Burkholz & Dubatovka §3: ``W = [[W0, -W0], [-W0, W0]]``
        with Gaussian ``W0`` (GSM) or ``W0 = sqrt(sigma_w2)`` times a uniformly random
        (semi-)orthogonal matrix ("looks-linear"). Needs even widths.
    batch_norm : bool, optional
        Normalise each pre-activation unit over the batch of inputs (Daneshmand et al.
        eq. 2, ``BN(H) = diag(H H^T / N)^{-1/2} H``) before the activation.

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

    def __post_init__(self):
        object.__setattr__(self, "width", _check_width(self.width))
        object.__setattr__(self, "sigma_w2", _check_positive_finite(self.sigma_w2, "sigma_w2"))
        object.__setattr__(self, "sigma_b2", _check_nonnegative_finite(self.sigma_b2, "sigma_b2"))
        act = get_activation(self.activation, negative_slope=self.negative_slope)
        object.__setattr__(self, "activation", act)
        if not callable(self.weight_law) and self.weight_law not in WEIGHT_LAWS:
            raise ValueError(f"weight_law must be one of {', '.join(WEIGHT_LAWS)} or a callable sampler, "
                             f"got {self.weight_law!r}")
        if self.sharing not in SHARING_SCHEMES:
            raise ValueError(f"sharing must be one of {', '.join(SHARING_SCHEMES)}, got {self.sharing!r}")
        if self.sharing != "none" and self.width % 2:
            raise ValueError(f"width must be even with sharing={self.sharing!r}, got {self.width}")
        object.__setattr__(self, "batch_norm", check_bool(self.batch_norm, "batch_norm"))

    @property
    def is_gaussian_iid(self) -> bool:
        """True for i.i.d. Gaussian weights without sharing or batch norm: the setting of Prop. 1."""
        return self.weight_law == "gaussian" and self.sharing == "none" and not self.batch_norm

    @property
    def weight_variance(self) -> float:
        """Actual variance of a weight entry (``sigma_w2`` except for the uncorrected truncated normal)."""
        if self.weight_law == "truncated_normal":
            return TRUNCATED_NORMAL_VARIANCE_FACTOR * self.sigma_w2
        return self.sigma_w2

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
        widths = [_check_width(w, f"widths[{i}]") for i, w in enumerate(widths)]
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


def as_network_spec(network, name="network"):
    """A :class:`Network` from a Network, a Layer or a non-empty list of Layers (ValueError otherwise)."""
    if isinstance(network, Network):
        return network
    if isinstance(network, Layer):
        return Network([network])
    if isinstance(network, (list, tuple)):
        if len(network) == 0:
            raise ValueError(f"{name} must have at least one layer (depth >= 1), got an empty list")
        return Network(network)
    raise ValueError(f"{name} must be a sigdist.Network, a Layer or a list of Layers, got {type(network).__name__}")


def require_gaussian_iid(layer: "Layer"):
    """Raise unless the layer is in the setting of Prop. 1 (i.i.d. Gaussian weights, no sharing, no BN)."""
    if not layer.is_gaussian_iid:
        raise ValueError(
            "the exact laws need i.i.d. Gaussian weights without sharing or batch norm; got "
            f"weight_law={layer.weight_law!r}, sharing={layer.sharing!r}, batch_norm={layer.batch_norm} "
            "(simulate it with sigdist.montecarlo.simulate; for GSM use Network.reduced_linear())")


def check_layer(layer, name="layer"):
    """Validate a :class:`Layer` argument (None or another object is refused by name, not by AttributeError)."""
    if not isinstance(layer, Layer):
        raise ValueError(f"{name} must be a sigdist.Layer, got {type(layer).__name__}")
    return layer


def check_integer(value, name, minimum=1):
    """Validate an integer count ``>= minimum`` (bools and non-integers refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_tol(tol, name="tol"):
    """Validate an accuracy target in ``[1e-15, 1)``: below 1e-15 no float64 computation can deliver it."""
    if isinstance(tol, (bool, str)) or not isinstance(tol, numbers.Real) or not (1e-15 <= tol < 1):
        raise ValueError(f"{name} must be a number in [1e-15, 1), got {tol!r}")
    return float(tol)


def check_input_norm(y0, name="y0"):
    """Validate a squared input norm: finite and ``>= 0``."""
    return _check_nonnegative_finite(y0, name)


def check_bool(value, name):
    """Validate a flag: ``True`` or ``False`` (numpy bools too); strings such as ``'no'`` are not flags."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


_SEED_BOUND = 2**64  # numpy's SeedSequence takes more, torch.Generator.manual_seed not


def check_seed(seed, name="seed", *, torch=False):
    """Validate a seed: None, an integer in ``[0, 2**64)``, or a generator, which is returned as is.

    Generators: a ``numpy.random.Generator``, ``BitGenerator`` or ``SeedSequence`` for the numpy
    samplers; a ``torch.Generator`` with ``torch=True`` (the torch samplers).
    """
    if seed is None:
        return None
    if torch:
        if type(seed).__module__.startswith("torch") and type(seed).__name__ == "Generator":
            return seed
        kinds = "a torch.Generator"
    else:
        if isinstance(seed, (np.random.Generator, np.random.BitGenerator, np.random.SeedSequence)):
            return seed
        kinds = "a numpy Generator or SeedSequence"
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < _SEED_BOUND:
        raise ValueError(f"{name} must be an integer in [0, 2**64), {kinds} or None, got {seed!r}")
    return int(seed)


def check_output_path(path, name):
    """Validate a file that will be written (a checkpoint, a figure) before any work is done.

    The file's folder must exist and take a new file, and an existing file must be writable: a path that
    fails only after a long run loses the run. Returns the path as a ``str``.
    """
    try:
        path = os.fsdecode(os.fspath(path))
    except TypeError:
        raise ValueError(f"{name} must be a file path, got {path!r}") from None
    if not path or os.path.isdir(path):
        raise ValueError(f"{name} must be a file path (not a folder), got {path!r}")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
        if os.path.exists(path):
            with open(path, "ab"):
                pass
    except OSError as err:
        raise ValueError(f"{name} must be a writable file path, got {path!r} ({err.strerror or err})") from None
    return path
