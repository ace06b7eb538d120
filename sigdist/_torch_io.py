r"""Real torch networks from a sigdist spec and back: the one construction of a random network.

A :class:`~sigdist.network.Layer` maps ``x`` (width ``N_{l-1}``) to

.. math:: x' = \phi\big(\mathrm{BN}(\hat W x + b)\big), \qquad
          \hat W x = W x \ (\gamma = \infty) \ \text{or}\ x + \gamma W x,

with ``W = sqrt(sigma_w2) U``, ``U`` drawn from the layer's weight law in its standard form
(:mod:`sigdist.weights`; Burkholz & Dubatovka 2019, §2.1), parameter sharing
``W = [[W0, -W0], [-W0, W0]]`` (§3), ``b_i ~ N(0, sigma_b2)``, and ``BN`` the normalisation of
each unit by its root mean square over the batch, without centring or affine parameters
(Daneshmand et al. 2020, eq. 2: ``BN(H) = diag(H H^T / N)^{-1/2} H``). The bias is added
outside the skip connection (D's eq. 1 has none).

:func:`draw_weights` and :func:`draw_biases` are the only code that draws a layer's parameters:
the Monte Carlo engine (:func:`sigdist.montecarlo.simulate`, ``method="full"``) draws ``n``
networks at once with them, :func:`to_torch` draws one. Both draw, layer after layer, the
weights and then the biases, from one generator on the requested device; :func:`to_torch` draws
in float64 (the engine's default dtype) and casts to its ``dtype``. Hence

    ``to_torch(network, seed=s, device=d)`` has exactly the weights and biases of the first network
    of ``simulate(network, x0, n, seed=s, device=d, method="full", chunk=1)`` (cast to ``dtype``),

and ``to_torch(network, seed=s)(x0)`` reproduces that network's signals. With ``chunk > 1`` the
engine draws the chunk's networks in one call per layer, so its first network's weights are other
numbers of the same law.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn

from ._random import torch_generator
from .activations import Activation

__all__ = ["BatchRMSNorm", "ResidualLinear", "SigdistActivation", "batch_normalise", "draw_biases",
           "draw_weights", "read_sequential", "to_torch"]

#: torch activation modules read by :func:`from_torch`, with the sigdist activation each means
SUPPORTED_MODULES = ("Linear", "ReLU", "LeakyReLU(negative_slope)", "Tanh", "GELU(approximate='none')", "SiLU",
                     "Sigmoid", "Identity", "BatchRMSNorm", "ResidualLinear", "SigdistActivation")


# -- the one construction --------------------------------------------------------------------------

def draw_weights(layer, n: int, fan_in: int, generator, device, dtype=torch.float64) -> torch.Tensor:
    """Weight matrices ``W`` of ``n`` independent copies of ``layer``, shape ``(n, N_l, fan_in)``.

    ``W = sqrt(sigma_w2) U`` with ``U`` from ``layer.weight_law.sample_torch``; with sharing,
    ``W = [[W0, -W0], [-W0, W0]]`` where ``W0`` is such a draw (GSM) or ``sqrt(sigma_w2)`` times a
    Haar-random (semi-)orthogonal matrix (looks-linear: QR of a Gaussian matrix with the sign fix of
    Mezzadri 2007).
    """
    sigma = math.sqrt(layer.sigma_w2)
    if layer.sharing == "none":
        return sigma * layer.weight_law.sample_torch(generator, (n, layer.width, fan_in), dtype, device)
    if fan_in % 2:
        raise ValueError(f"sharing={layer.sharing!r} needs an even input width, got {fan_in}")
    rows, cols = layer.width // 2, fan_in // 2
    if layer.sharing == "gsm":
        w0 = sigma * layer.weight_law.sample_torch(generator, (n, rows, cols), dtype, device)
    else:
        g = torch.randn((n, max(rows, cols), min(rows, cols)), generator=generator, dtype=dtype, device=device)
        q, r = torch.linalg.qr(g)
        q = q * torch.sign(torch.diagonal(r, dim1=1, dim2=2)).unsqueeze(1)
        w0 = sigma * (q if rows >= cols else q.transpose(1, 2))
    top = torch.cat([w0, -w0], dim=2)
    return torch.cat([top, -top], dim=1)


def draw_biases(layer, n: int, generator, device, dtype=torch.float64):
    """Biases ``b ~ N(0, sigma_b2)`` of ``n`` copies of ``layer``, shape ``(n, N_l)``; None if ``sigma_b2 = 0``."""
    if layer.sigma_b2 == 0:
        return None
    return math.sqrt(layer.sigma_b2) * torch.randn((n, layer.width), generator=generator, dtype=dtype, device=device)


def batch_normalise(h: torch.Tensor, dim: int) -> torch.Tensor:
    """Each unit divided by its root mean square over the batch axis ``dim`` (D, eq. 2; no centring).

    A unit that is exactly 0 on every input (a dead previous layer with ``sigma_b2 = 0``) stays 0
    instead of 0/0.
    """
    ms = torch.mean(h * h, dim=dim, keepdim=True)
    return torch.where(ms > 0, h / torch.sqrt(torch.where(ms > 0, ms, torch.ones_like(ms))), torch.zeros_like(h))


# -- modules that nn has no equivalent for ---------------------------------------------------------

class BatchRMSNorm(nn.Module):
    """Batch normalisation of Daneshmand et al. (2020), eq. 2: ``h / sqrt(mean over the batch of h^2)``.

    No centring, no affine parameters, no running statistics: the batch is the first axis.
    """

    def forward(self, h):
        return batch_normalise(h, dim=0)


class ResidualLinear(nn.Module):
    """``x -> x + gamma W x + b`` (Daneshmand et al. 2020, eq. 1, with the bias outside the skip)."""

    def __init__(self, width: int, gamma: float, bias: bool, *, dtype=None, device=None):
        super().__init__()
        self.gamma = float(gamma)
        self.linear = nn.Linear(width, width, bias=False, dtype=dtype, device=device)
        self.bias = nn.Parameter(torch.zeros(width, dtype=dtype, device=device)) if bias else None

    def forward(self, x):
        h = x + self.gamma * self.linear(x)
        return h if self.bias is None else h + self.bias

    def extra_repr(self):
        return f"width={self.linear.in_features}, gamma={self.gamma:g}, bias={self.bias is not None}"


class SigdistActivation(nn.Module):
    """A sigdist :class:`~sigdist.activations.Activation` that ``torch.nn`` has no module for (erf, abs, a callable)."""

    def __init__(self, activation: Activation):
        super().__init__()
        self.activation = activation

    def forward(self, h):
        return self.activation.torch(h)

    def extra_repr(self):
        return self.activation.name


def _activation_module(layer):
    name = layer.activation.name
    if name == "relu":
        return nn.ReLU()
    if name.startswith("leaky_relu"):
        return nn.LeakyReLU(layer.negative_slope)
    if name == "tanh":
        return nn.Tanh()
    if name == "gelu":
        return nn.GELU()
    if name == "silu":
        return nn.SiLU()
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "linear":
        return None
    return SigdistActivation(layer.activation)


def to_torch(network, seed=None, *, dtype=None, device="cpu") -> nn.Sequential:
    """A real ``torch.nn.Sequential`` initialised as ``network`` says.

    Layer ``l`` becomes ``nn.Linear(N_{l-1}, N_l)`` (``ResidualLinear`` for a finite ``gamma``),
    then ``BatchRMSNorm`` if ``batch_norm``, then its activation module (none for ``linear``;
    ``SigdistActivation`` where ``torch.nn`` has no module). Parameters are drawn by
    :func:`draw_weights` and :func:`draw_biases`, the Monte Carlo engine's code, in the same order
    (see the module notes for what this reproduces).

    Parameters
    ----------
    network : Network, Layer, list of Layer or list of widths
        Anything :func:`sigdist.as_network` takes; ``input_width`` must be known.
    seed : int, SeedSequence, numpy Generator, torch.Generator or None
        A torch.Generator must live on ``device``.
    dtype : torch.dtype, optional
        The module's dtype (default: torch's default dtype). Parameters are drawn in float64 and cast.
    device : str or torch.device

    Returns
    -------
    torch.nn.Sequential
        A layer with ``sigma_b2 = 0`` has no bias parameter (``bias=False``), so that
        :func:`from_torch` reads ``sigma_b2 = 0`` back from it.

    Examples
    --------
    >>> import sigdist
    >>> module = sigdist.Network.he([4, 8, 2]).to_torch(seed=0)
    >>> module
    Sequential(
      (0): Linear(in_features=4, out_features=8, bias=False)
      (1): ReLU()
      (2): Linear(in_features=8, out_features=2, bias=False)
      (3): ReLU()
    )
    """
    if network.input_width is None:
        raise ValueError("network must know its input_width to be built in torch (Network(layers, input_width=N_0))")
    if dtype is None:
        dtype = torch.get_default_dtype()
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:k', got {device!r}") from None
    gen = torch_generator(seed, device)
    modules = []
    fan_in = network.input_width
    with torch.no_grad():
        for layer in network:
            w = draw_weights(layer, 1, fan_in, gen, device)[0]
            b = draw_biases(layer, 1, gen, device)
            if layer.residual:
                linear = ResidualLinear(layer.width, layer.gamma, b is not None, dtype=dtype, device=device)
                linear.linear.weight.copy_(w)
            else:
                linear = nn.Linear(fan_in, layer.width, bias=b is not None, dtype=dtype, device=device)
                linear.weight.copy_(w)
            if b is not None:
                linear.bias.copy_(b[0])
            modules.append(linear)
            if layer.batch_norm:
                modules.append(BatchRMSNorm())
            act = _activation_module(layer)
            if act is not None:
                modules.append(act)
            fan_in = layer.width
    return nn.Sequential(*modules)


# -- reading a module ------------------------------------------------------------------------------

def _per_layer(value, depth, name, check):
    if value is None:
        return [None] * depth
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return [check(value)] * depth
    try:
        values = list(value)
    except TypeError:
        raise ValueError(f"{name} must be a number or one number per Linear layer ({depth}), got {value!r}") from None
    if len(values) != depth:
        raise ValueError(f"{name} must be a number or one number per Linear layer ({depth}), got {len(values)} values")
    return [check(v) for v in values]


def _check_variance(positive):
    def check(v):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v < 0 or (
                positive and v == 0):
            raise ValueError(f"variance must be a finite number {'> 0' if positive else '>= 0'}, got {v!r}")
        return float(v)
    return check


def _read_activation(module, index):
    """``(activation, negative_slope)`` of a supported activation module, None for anything else."""
    if isinstance(module, nn.ReLU):
        return "relu", 0.01
    if isinstance(module, nn.LeakyReLU):
        return "leaky_relu", float(module.negative_slope)
    if isinstance(module, nn.Tanh):
        return "tanh", 0.01
    if isinstance(module, nn.GELU):
        if module.approximate != "none":
            raise ValueError(f"module[{index}] is GELU(approximate={module.approximate!r}); sigdist's gelu is the "
                             "exact h Phi(h): supported are " + ", ".join(SUPPORTED_MODULES))
        return "gelu", 0.01
    if isinstance(module, nn.SiLU):
        return "silu", 0.01
    if isinstance(module, nn.Sigmoid):
        return "sigmoid", 0.01
    if isinstance(module, nn.Identity):
        return "linear", 0.01
    if isinstance(module, SigdistActivation):
        return module.activation, 0.01
    return None


def read_sequential(module, *, input_width=None, sigma_w2=None, sigma_b2=None):
    """The spec of a real ``torch.nn.Sequential`` of Linear layers and supported activations.

    Each ``nn.Linear`` (or :class:`ResidualLinear`) starts a layer; the activation module after it
    (``ReLU``, ``LeakyReLU``, ``Tanh``, ``GELU(approximate='none')``, ``Identity``, or
    :class:`SigdistActivation`) is its activation, ``linear`` when none follows; a
    :class:`BatchRMSNorm` between them sets ``batch_norm``. The variances are estimated from the
    module's actual parameters unless given: ``sigma_w2`` is the mean of the squared weight entries
    (an unbiased estimate for centred i.i.d. weights, standard error ``sigma_w2 sqrt((kappa - 1) / n)``
    over ``n`` entries, ``kappa = 3`` for Gaussian weights), ``sigma_b2`` the mean of the squared
    bias entries, and 0 for a layer without bias. The weight law is read as Gaussian.

    Parameters
    ----------
    module : torch.nn.Sequential
    input_width : int, optional
        ``N_0``; checked against the first layer's ``in_features`` when given.
    sigma_w2, sigma_b2 : float or sequence of float, optional
        One number for every layer or one per layer, instead of the estimates.

    Returns
    -------
    layers : list of dict
        The keyword arguments of each :class:`~sigdist.network.Layer` (``Network.from_torch`` builds them:
        this module does not import the network spec, which imports it).
    input_width : int

    Raises
    ------
    ValueError
        For a module that is not a Sequential, a module inside it that is not supported (named, with
        the supported ones listed), widths that do not chain, or an activation without a layer before it.
    """
    if not isinstance(module, nn.Sequential):
        raise ValueError(f"module must be a torch.nn.Sequential of Linear layers and activations, "
                         f"got {type(module).__name__}")
    # group the children: a Linear, an optional BatchRMSNorm, an optional activation
    groups = []
    for i, child in enumerate(module):
        if isinstance(child, (nn.Linear, ResidualLinear)):
            groups.append({"linear": child, "batch_norm": False, "activation": None, "index": i})
            continue
        if not groups:
            raise ValueError(f"module[{i}] ({type(child).__name__}) comes before any Linear layer")
        group = groups[-1]
        if isinstance(child, BatchRMSNorm):
            if group["batch_norm"] or group["activation"] is not None:
                raise ValueError(f"module[{i}] (BatchRMSNorm) must follow a Linear layer directly")
            group["batch_norm"] = True
            continue
        act = _read_activation(child, i)
        if act is None:
            raise ValueError(f"module[{i}] is {child!r}, which sigdist cannot read: supported are "
                             + ", ".join(SUPPORTED_MODULES))
        if group["activation"] is not None:
            raise ValueError(f"module[{i}] ({type(child).__name__}) is a second activation after the Linear "
                             f"module[{group['index']}]")
        group["activation"] = act
    if not groups:
        raise ValueError("module must hold at least one Linear layer")
    depth = len(groups)
    sw2 = _per_layer(sigma_w2, depth, "sigma_w2", _check_variance(True))
    sb2 = _per_layer(sigma_b2, depth, "sigma_b2", _check_variance(False))
    layers = []
    fan_in = None
    for k, group in enumerate(groups):
        lin = group["linear"]
        if isinstance(lin, ResidualLinear):
            weight, bias, gamma = lin.linear.weight, lin.bias, lin.gamma
        else:
            weight, bias, gamma = lin.weight, lin.bias, math.inf
        out_features, in_features = weight.shape
        if fan_in is not None and in_features != fan_in:
            raise ValueError(f"module[{group['index']}] has in_features={in_features}, the previous layer has "
                             f"width {fan_in}")
        if k == 0:
            first_in = in_features
        w = weight.detach().to(torch.float64)
        var_w = sw2[k] if sw2[k] is not None else float(torch.mean(w * w))
        if var_w == 0:
            raise ValueError(f"module[{group['index']}] has all-zero weights: sigma_w2 must be > 0 "
                             "(give sigma_w2= to describe the initialisation instead)")
        if bias is None:
            var_b = 0.0 if sb2[k] is None else sb2[k]
        else:
            b = bias.detach().to(torch.float64)
            var_b = sb2[k] if sb2[k] is not None else float(torch.mean(b * b))
        activation, slope = group["activation"] or ("linear", 0.01)
        layers.append(dict(width=int(out_features), sigma_w2=var_w, sigma_b2=var_b, activation=activation,
                           negative_slope=slope, batch_norm=group["batch_norm"], gamma=gamma))
        fan_in = int(out_features)
    if input_width is not None and input_width != first_in:
        raise ValueError(f"input_width must equal the first layer's in_features {first_in}, got {input_width!r}")
    return layers, int(first_in)
