r"""Hanin & Rolnick's failure modes FM1 and FM2, exactly, at finite width.

Hanin & Rolnick (2018) tie early trainability to the normalised squared activation lengths

.. math:: M_j = \frac{1}{n_j} \|\mathrm{act}^{(j)}\|^2, \qquad j = 1, \dots, d,

of a fully connected ReLU net: FM1 is an exploding or vanishing mean :math:`E[M_d]`, FM2 a large
mean :math:`E[\widehat{\mathrm{Var}}[M]]` of the empirical variance of :math:`(M_1, \dots, M_d)`
across layers. This module gives the exact finite-width values of both.

Fully connected nets (:func:`length_moments`, :func:`empirical_variance`). Layer ``j`` draws its
weights i.i.d. from a symmetric law of variance :math:`\sigma_j^2` and standardised fourth moment
:math:`\kappa_j = \mu_4 / \sigma_j^4` (3 Gaussian, 9/5 uniform, 2.3655 for the normal cut at
:math:`\pm 2\sigma`) and its biases from :math:`N(0, \sigma_{b,j}^2)`. With :math:`Y = |a|^2` and
:math:`P = \sum_k a_k^4` of the previous activations ``a``, each pre-activation
:math:`z_i = \sum_k W_{ik} a_k + b_i` is symmetric with

.. math::
    E[z_i^2 \mid a] = s = \sigma^2 Y + \sigma_b^2, \qquad
    E[z_i^4 \mid a] = 3 s^2 + (\kappa - 3)\,\sigma^4 P,

and the :math:`n` units are i.i.d. given ``a``; ``relu`` keeps half of every even moment. Hence,
with :math:`Y', P'` the next layer's,

.. math::
    E[Y' \mid a] &= \tfrac{n}{2}\, s, \\
    E[Y'^2 \mid a] &= \tfrac{n(n+5)}{4}\, s^2 + \tfrac{n(\kappa-3)}{2}\,\sigma^4 P, \\
    E[P' \mid a] &= \tfrac{n}{2}\,\big(3 s^2 + (\kappa - 3)\,\sigma^4 P\big), \\
    \mathrm{Var}[Y' \mid a] &= \tfrac{5n}{4}\, s^2 + \tfrac{n(\kappa-3)}{2}\,\sigma^4 P,

an affine recursion of :math:`(E Y, E Y^2, E P, \mathrm{Var}\,Y)` (:math:`s^2` is quadratic in
``Y``). Only the Gaussian (:math:`\kappa = 3`) makes :math:`P` drop out: for any other law the
*input vector* matters through :math:`P_0 = \sum_k \mathrm{act}^{(0)4}_k`, not only its norm. For
He weights (:math:`\sigma^2 = 2/n_{j-1}`, Gaussian, no bias), :math:`E[M_j^2] = (1 + 5/n_j)
E[M_{j-1}^2]`: :math:`E[M_d^2] = M_0^2 \prod_j (1 + 5/n_j)`, the FM2 mechanism.

Since :math:`E[M_j \mid \mathcal F_{j-1}] = \alpha_j M_{j-1} + \sigma_{b,j}^2/2` with
:math:`\alpha_j = n_{j-1}\sigma_j^2/2`, :math:`\mathrm{Cov}(M_i, M_j) = \alpha_{i+1}\cdots\alpha_j
\mathrm{Var}[M_i]` for :math:`i < j`, which gives :math:`E[\widehat{\mathrm{Var}}[M]]` in
:math:`O(d)`.

Residual nets (:func:`residual_length_moments`): modules of ReLU hidden layers and a *linear*
Gaussian read-out, where the cross term :math:`2\eta E\langle x, \mathcal N(x)\rangle` vanishes
(it is odd in the read-out weights); see its docstring and ``docs/lengths.md``.

Every recursion runs in logs (depth :math:`10^4` in about a millisecond); values beyond float64 are
returned as ``inf`` with a :class:`~sigdist.laws.SigdistWarning` naming the quantity, and the logs
are always exact.

References
----------
B. Hanin and D. Rolnick, *How to Start Training: The Effect of Initialization and Architecture*,
NeurIPS 2018: §3.1-3.4, Theorem 5 (eq. 4, 5), Corollaries 1 and 2 (eq. 6, 7), Theorem 6 (eq. 8).
Disagreements with the printed statements: ``docs/errata.md``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ._numba import njit
from ._warnings import SigdistWarning
from ._checks import check_width
from .network import Layer, Network, ResidualNetwork
from .weights import TRUNCATED_NORMAL_VARIANCE_FACTOR, WEIGHT_LAWS, WeightLaw, get_weight_law

__all__ = [
    "KNOWN_INITIALIZERS",
    "LengthMoments",
    "ResidualLengthMoments",
    "Theorem5Bounds",
    "Corollary2Bounds",
    "corollary1_mean",
    "corollary2_bounds",
    "empirical_variance",
    "initializer_network",
    "length_moments",
    "lengths_report",
    "linear_readout_residual",
    "residual_length_moments",
    "standardized_fourth_moment",
    "theorem5_bounds",
    "weight_variance_factor",
]

_LOG_MAX = math.log(np.finfo(np.float64).max)


# -- weight laws and initialisers ----------------------------------------------------------------

def standardized_fourth_moment(weight_law) -> float:
    r"""The standardised fourth moment :math:`\kappa = E[W^4] / E[W^2]^2` of a weight law.

    Parameters
    ----------
    weight_law : {"gaussian", "uniform", "truncated_normal"} or float
        A law named as in :class:`~sigdist.network.Layer`, or :math:`\kappa` itself (a number
        ``>= 1``, for any other symmetric law).

    Returns
    -------
    float
        3 (Gaussian), 9/5 (uniform), :math:`E[g^4 \mid |g| \le 2] / E[g^2 \mid |g| \le 2]^2 = 2.3655`
        (the normal cut at two standard deviations).

    Raises
    ------
    ValueError
        For a callable sampler (its fourth moment is unknown: pass :math:`\kappa` as a number) or an
        unknown name.

    Examples
    --------
    >>> from sigdist.lengths import standardized_fourth_moment
    >>> standardized_fourth_moment("uniform")
    1.8
    """
    if isinstance(weight_law, str):
        if weight_law not in WEIGHT_LAWS:
            raise ValueError(f"weight_law must be one of {', '.join(WEIGHT_LAWS)} or a number >= 1 "
                             f"(the standardised fourth moment), got {weight_law!r}")
        weight_law = WEIGHT_LAWS[weight_law]
    if isinstance(weight_law, WeightLaw) and weight_law.kurtosis is not None:
        return weight_law.kurtosis
    if callable(weight_law) or isinstance(weight_law, WeightLaw):
        raise ValueError("the exact second moments need the weight law's fourth moment, unknown for a callable "
                         "sampler: pass weight_law=<E[W^4]/E[W^2]^2> (a number >= 1) to length_moments")
    if isinstance(weight_law, numbers.Real) and not isinstance(weight_law, bool):
        k = float(weight_law)
        if math.isfinite(k) and k >= 1.0:
            return k
    raise ValueError(f"weight_law must be one of {', '.join(WEIGHT_LAWS)} or a number >= 1 "
                     f"(the standardised fourth moment E[W^4]/E[W^2]^2), got {weight_law!r}")


# name -> (law, variance numerator, denominator in {"in", "avg"}); the variance is of the *untruncated*
# normal for "truncated_normal" (PyTorch's trunc_normal_(std=s, a=-2s, b=2s), Keras <= 2.1's he_normal)
_INITIALIZERS = {
    "he_normal": ("gaussian", 2.0, "in"),
    "he_normal_truncated": ("truncated_normal", 2.0, "in"),
    "he_uniform": ("uniform", 2.0, "in"),
    "he_normal_2x": ("gaussian", 4.0, "in"),
    "lecun_normal": ("gaussian", 1.0, "in"),
    "lecun_uniform": ("uniform", 1.0, "in"),
    "glorot_normal": ("gaussian", 2.0, "avg"),
    "glorot_uniform": ("uniform", 2.0, "avg"),
}

#: Initialiser names known to :func:`weight_variance_factor` and :func:`initializer_network`.
KNOWN_INITIALIZERS = tuple(_INITIALIZERS)


def _initializer(name):
    if name not in _INITIALIZERS:
        raise ValueError(f"unknown initializer {name!r}; known: {', '.join(KNOWN_INITIALIZERS)}")
    return _INITIALIZERS[name]


def weight_variance_factor(name, fan_in, fan_out=None) -> float:
    r"""The actual variance of one weight drawn by a named initialiser.

    Parameters
    ----------
    name : str
        One of :data:`KNOWN_INITIALIZERS`: ``"he_normal"`` (:math:`N(0, 2/\mathrm{fan_{in}})`),
        ``"he_normal_truncated"`` (the same normal cut at :math:`\pm 2\sigma` and not rescaled, as
        PyTorch's ``trunc_normal_`` and Keras's ``he_normal`` up to 2.1 do: variance
        :math:`0.7737 \cdot 2/\mathrm{fan_{in}}`), ``"he_uniform"``, ``"he_normal_2x"`` (twice He,
        Fig. 1), ``"lecun_normal"``, ``"lecun_uniform"`` (:math:`1/\mathrm{fan_{in}}`),
        ``"glorot_normal"``, ``"glorot_uniform"`` (:math:`2/(\mathrm{fan_{in}} + \mathrm{fan_{out}})`).
    fan_in : int
    fan_out : int, optional
        Needed by the Glorot initialisers.

    Returns
    -------
    float
        :math:`E[W^2]`. Hanin & Rolnick's FM1 criterion is :math:`E[W^2] = 2/\mathrm{fan_{in}}`
        (Theorem 1); :math:`E[M_d] = M_0 \prod_j \mathrm{fan_{in}}_j E[W_j^2] / 2` (Cor. 1).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones) or a fan that is not an integer ``>= 1``.

    Examples
    --------
    >>> from sigdist.lengths import weight_variance_factor
    >>> round(weight_variance_factor("he_normal_truncated", 100) * 100 / 2, 6)
    0.773741
    """
    law, numerator, mode = _initializer(name)
    fan_in = check_width(fan_in, "fan_in")
    if mode == "avg":
        if fan_out is None:
            raise ValueError(f"initializer {name!r} needs fan_out (an integer >= 1)")
        fan_out = check_width(fan_out, "fan_out")
        nominal = numerator / (fan_in + fan_out)
    else:
        nominal = numerator / fan_in
    return nominal * (TRUNCATED_NORMAL_VARIANCE_FACTOR if law == "truncated_normal" else 1.0)


def initializer_network(name, widths, sigma_b2=0.0) -> Network:
    """A relu :class:`~sigdist.network.Network` ``widths = [n_0, ..., n_d]`` drawn by a named initialiser.

    Each layer carries the initialiser's weight law and its nominal variance (the untruncated one for
    ``"he_normal_truncated"``, as :class:`~sigdist.network.Layer` expects), so
    :func:`sigdist.montecarlo.simulate` draws exactly what the initialiser draws.

    Raises
    ------
    ValueError
        For an unknown name (listing the known), a width that is not an integer ``>= 1``, or fewer than
        two widths (depth 0).
    """
    law, _, _ = _initializer(name)
    widths = _check_widths(widths)
    layers = []
    for j in range(1, len(widths)):
        var = weight_variance_factor(name, widths[j - 1], widths[j])
        if law == "truncated_normal":
            var /= TRUNCATED_NORMAL_VARIANCE_FACTOR
        layers.append(Layer(widths[j], var, sigma_b2, "relu", weight_law=law))
    return Network(layers, input_width=widths[0])


def _check_widths(widths):
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__"):
        raise ValueError(f"widths must be a sequence [n_0, n_1, ..., n_d] of integers >= 1, got {widths!r}")
    widths = [check_width(w, f"widths[{i}]") for i, w in enumerate(widths)]
    if len(widths) < 2:
        raise ValueError(f"widths must list n_0 and at least one layer width (depth >= 1), got {widths}")
    return widths


# -- fully connected nets ------------------------------------------------------------------------

@dataclass(frozen=True)
class LengthMoments:
    r"""Exact moments of :math:`M_j = |\mathrm{act}^{(j)}|^2 / n_j`, ``j = 1..d`` (index 0 is layer 1).

    Attributes
    ----------
    mean, second_moment, var : ndarray, shape (d,)
        :math:`E[M_j]`, :math:`E[M_j^2]`, :math:`\mathrm{Var}[M_j]` (``inf`` past float64, with a warning).
    log_mean, log_second_moment, log_var : ndarray, shape (d,)
        Their natural logs, exact at any depth (``-inf`` for 0).
    widths : tuple of int
        :math:`(n_1, \dots, n_d)`.
    input_mean : float or None
        :math:`M_0 = |\mathrm{act}^{(0)}|^2 / n_0` (None when :math:`n_0` is unknown).
    gains, offsets : ndarray, shape (d,)
        :math:`E[M_j \mid \mathcal F_{j-1}] = \mathrm{gains}_j M_{j-1} + \mathrm{offsets}_j` for
        ``j >= 2`` (:math:`\alpha_j = n_{j-1}\sigma_j^2/2`, :math:`\sigma_{b,j}^2/2`); entry 0 is NaN
        when :math:`n_0` is unknown.
    kappas : ndarray, shape (d,)
        Standardised fourth moments of the weight laws.
    """

    mean: np.ndarray
    second_moment: np.ndarray
    var: np.ndarray
    log_mean: np.ndarray
    log_second_moment: np.ndarray
    log_var: np.ndarray
    widths: tuple
    input_mean: float | None
    gains: np.ndarray
    offsets: np.ndarray
    kappas: np.ndarray

    @property
    def depth(self) -> int:
        return len(self.widths)

    @property
    def sum_reciprocal_widths(self) -> float:
        r""":math:`\sum_{j=1}^d 1/n_j` (the sum in Theorem 5, eq. 5)."""
        return float(np.sum(1.0 / np.asarray(self.widths, dtype=np.float64)))

    def cross_moment(self, i, j) -> float:
        r""":math:`E[M_i M_j] = a_{ij} E[M_i^2] + b_{ij} E[M_i]` with :math:`E[M_j \mid \mathcal F_i] = a_{ij} M_i + b_{ij}`.

        ``1 <= i <= j <= d``; ``i = j`` gives the second moment.
        """
        d = self.depth
        for name, v in (("i", i), ("j", j)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not 1 <= v <= d:
                raise ValueError(f"{name} must be an integer layer in [1, {d}], got {v!r}")
        if i > j:
            i, j = j, i
        a, b = 1.0, 0.0
        for k in range(i + 1, j + 1):
            a, b = self.gains[k - 1] * a, self.gains[k - 1] * b + self.offsets[k - 1]
        return float(a * self.second_moment[i - 1] + b * self.mean[i - 1])

    def empirical_variance(self) -> float:
        r"""Exact :math:`E[\widehat{\mathrm{Var}}[M]]`, :math:`\widehat{\mathrm{Var}}[M] = \frac1d\sum_j M_j^2 - (\frac1d \sum_j M_j)^2`.

        See :func:`empirical_variance`.
        """
        return _empirical_variance(self.log_mean, self.log_var, self.gains)


def _layer_coefficients(layers, weight_law):
    n = np.empty(len(layers))
    var = np.empty(len(layers))
    bias = np.empty(len(layers))
    kappa = np.empty(len(layers))
    for j, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise ValueError(f"layers[{j}] must be a sigdist.Layer")
        if layer.activation.name != "relu":
            raise ValueError(f"length moments are for relu nets (Hanin & Rolnick); layer {j + 1} has activation "
                             f"{layer.activation.name!r}")
        if layer.sharing != "none" or layer.batch_norm:
            raise ValueError(f"layer {j + 1}: the exact length moments need i.i.d. weights without sharing or batch "
                             "norm (simulate it with sigdist.montecarlo.simulate)")
        law = layer.weight_law if weight_law is None else weight_law
        kappa[j] = standardized_fourth_moment(law)
        if isinstance(law, str):
            law = get_weight_law(law)
        factor = law.variance_factor if isinstance(law, WeightLaw) else 1.0
        n[j] = layer.width
        var[j] = layer.sigma_w2 * factor
        bias[j] = layer.sigma_b2
    return n, var, bias, kappa


def _as_network(network, initializer):
    if isinstance(network, Network):
        if initializer is not None:
            raise ValueError("initializer applies to a list of widths, not to a Network (its layers say their law)")
        return network
    if isinstance(network, Layer):
        return Network([network])
    if hasattr(network, "__len__") and not isinstance(network, (str, bytes)) and len(network) > 0 \
            and all(isinstance(l, Layer) for l in network):
        return Network(list(network))
    if hasattr(network, "__len__") and not isinstance(network, (str, bytes)):
        return initializer_network("he_normal" if initializer is None else initializer, network)
    raise ValueError(f"network must be a sigdist.Network, a list of Layers, or widths [n_0, ..., n_d]; "
                     f"got {type(network).__name__}")


def _input_statistics(inp, input_width, need_fourth):
    """``(Y_0, P_0 or None, n_0 or None)`` from an input vector, a squared norm, or None (M_0 = 1)."""
    if inp is not None and np.ndim(inp) != 0:
        x = np.asarray(inp, dtype=np.float64)
        if x.ndim != 1 or x.size == 0 or not np.all(np.isfinite(x)):
            raise ValueError(f"input must be a finite vector act_0 (or its squared norm), got shape {np.shape(inp)}")
        if input_width is not None and x.size != input_width:
            raise ValueError(f"input must have the network's input width {input_width}, got {x.size}")
        return float(x @ x), float(np.sum(x ** 4)), x.size
    if inp is None:
        if input_width is None:
            raise ValueError("input=None means M_0 = 1 (|act_0|^2 = n_0) and needs the network's input_width; "
                             "pass the input vector or its squared norm")
        y0 = float(input_width)
    else:
        if isinstance(inp, bool):
            raise ValueError(f"input must be a vector or a squared norm >= 0, got {inp!r}")
        try:
            y0 = float(inp)
        except (TypeError, ValueError):
            raise ValueError(f"input must be a vector or a squared norm >= 0, got {inp!r}") from None
        if not (math.isfinite(y0) and y0 >= 0):
            raise ValueError(f"input (the squared norm |act_0|^2) must be a finite number >= 0, got {inp!r}")
    if need_fourth:  # a norm alone does not determine sum_k act0_k^4
        raise ValueError("the first layer's weights are not Gaussian: its second moments depend on the input "
                         "vector through sum_k act0_k^4, not only on its norm; pass input=<the vector act_0>")
    return y0, None, input_width


def _log(x):
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(x, dtype=np.float64))


@njit
def _lae(a, b):
    """log(exp(a) + exp(b)) with -inf allowed."""
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


@njit
def _lae_signed(a, b, sign):
    """log(exp(a) + sign * exp(b)), the result known to be >= 0 (clipped at -inf)."""
    if sign >= 0:
        return _lae(a, b)
    if b == -np.inf:
        return a
    if b >= a:
        return -np.inf
    return a + math.log1p(-math.exp(b - a))


@njit
def _log_recursion(n, log_var, log_bias, kappa_minus_3, ly, lq, lp):
    """The affine recursion of the module docstring, in logs: returns log E Y, log E Y^2, log E P, log Var Y."""
    d = n.shape[0]
    out_y = np.empty(d)
    out_q = np.empty(d)
    out_p = np.empty(d)
    out_v = np.empty(d)
    lv = -np.inf
    for j in range(d):
        lw, lb, k3 = log_var[j], log_bias[j], kappa_minus_3[j]
        ln = math.log(n[j])
        ls2 = _lae(_lae(2.0 * lw + lq, math.log(2.0) + lw + lb + ly), 2.0 * lb)
        lkp = -np.inf
        sign = 1.0
        if k3 != 0.0:
            lkp = math.log(abs(k3)) + 2.0 * lw + lp
            sign = 1.0 if k3 > 0 else -1.0
        ly_new = ln - math.log(2.0) + _lae(lw + ly, lb)
        lq_new = _lae_signed(ln + math.log(n[j] + 5.0) - math.log(4.0) + ls2, ln - math.log(2.0) + lkp, sign)
        lp_new = ln - math.log(2.0) + _lae_signed(math.log(3.0) + ls2, lkp, sign)
        lv_new = _lae(2.0 * (ln + lw - math.log(2.0)) + lv,
                      _lae_signed(ln + math.log(1.25) + ls2, ln - math.log(2.0) + lkp, sign))
        ly, lq, lp, lv = ly_new, lq_new, lp_new, lv_new
        out_y[j] = ly
        out_q[j] = lq
        out_p[j] = lp
        out_v[j] = lv
    return out_y, out_q, out_p, out_v


@njit
def _log_suffix_gains(log_gains):
    """log A_i, A_i = sum_{j>i} prod_{k=i+1}^j alpha_k, by A_d = 0, A_i = alpha_{i+1} (1 + A_{i+1})."""
    d = log_gains.shape[0]
    out = np.empty(d)
    out[d - 1] = -np.inf
    for i in range(d - 2, -1, -1):
        out[i] = log_gains[i + 1] + _lae(0.0, out[i + 1])
    return out


def _plain_recursion(n, var, bias, kappa, y0, q0, p0):
    """The same recursion in plain floats (the reference the log version is tested against)."""
    y, q, p, v = y0, q0, p0, 0.0
    rows = []
    for nj, w, b, k in zip(n, var, bias, kappa):
        s2 = w * w * q + 2 * w * b * y + b * b
        kp = (k - 3.0) * w * w * p
        y, q, p, v = (nj / 2 * (w * y + b), nj * (nj + 5) / 4 * s2 + nj / 2 * kp, nj / 2 * (3 * s2 + kp),
                      (nj * w / 2) ** 2 * v + nj * (1.25 * s2 + kp / 2))
        rows.append((y, q, p, v))
    return np.array(rows).T


def _exp_checked(log_values, name):
    if np.any(log_values > _LOG_MAX):
        warnings.warn(f"{name} exceeds float64 from layer {int(np.argmax(log_values > _LOG_MAX)) + 1} on: returned "
                      f"as inf (its log is exact: log_{name})", SigdistWarning, stacklevel=3)
    with np.errstate(over="ignore"):
        return np.exp(log_values)


def length_moments(network, input=None, *, weight_law=None, initializer=None) -> LengthMoments:
    r"""Exact :math:`E[M_j]`, :math:`E[M_j^2]`, :math:`\mathrm{Var}[M_j]` of a fully connected ReLU net.

    Parameters
    ----------
    network : Network, list of Layer, or sequence of int
        relu layers with i.i.d. weights (any symmetric law with a finite fourth moment) and
        :math:`N(0, \sigma_b^2)` biases. A sequence of widths ``[n_0, n_1, ..., n_d]`` builds the
        network with ``initializer`` (default ``"he_normal"``).
    input : array_like or float, optional
        The input vector :math:`\mathrm{act}^{(0)}`, or its squared norm :math:`|\mathrm{act}^{(0)}|^2`
        (enough when the first layer is Gaussian: then only the norm matters). Default: :math:`M_0 = 1`,
        i.e. :math:`|\mathrm{act}^{(0)}|^2 = n_0` (Gaussian first layer only).
    weight_law : {"gaussian", "uniform", "truncated_normal"} or float, optional
        Replaces every layer's weight law (``sigma_w2`` read as :class:`~sigdist.network.Layer` reads it);
        a number is the standardised fourth moment :math:`\kappa` of any other symmetric law of variance
        ``sigma_w2``. Default: each layer's own law.
    initializer : str, optional
        For ``network`` given as widths: one of :data:`KNOWN_INITIALIZERS`.

    Returns
    -------
    LengthMoments

    Raises
    ------
    ValueError
        For widths ``< 1``, depth 0, an unknown initialiser or law, a callable weight law (unknown fourth
        moment), a non-relu layer, sharing or batch norm, a negative or non-finite input, or a squared-norm
        input where the first layer is not Gaussian.

    Notes
    -----
    The recursion of the module docstring, run in logs. With :math:`\sigma_j^2 = 2\kappa_{\rm init}/n_{j-1}`
    it gives :math:`E[M_d] = \kappa_{\rm init}^d M_0 + \sum_j \kappa_{\rm init}^{d-j}\sigma_{b,j}^2/2` (Cor. 1,
    whose printed bias term lacks the 1/2: docs/errata.md); for Gaussian He weights without bias
    :math:`E[M_d^2] = M_0^2 \prod_{j=1}^d (1 + 5/n_j)`. :math:`E[M_d^k]` equals the k-th moment of
    :func:`sigdist.squared_norm_law` divided by :math:`n_d^k`.

    References
    ----------
    Hanin & Rolnick (2018), Theorem 1, Theorem 5 (eq. 5), Corollary 1.

    Examples
    --------
    >>> from sigdist.lengths import length_moments
    >>> r = length_moments([10, 10, 10])            # He normal, M_0 = 1
    >>> round(float(r.second_moment[-1]), 12)       # (1 + 5/10)^2
    2.25
    """
    net = _as_network(network, initializer)
    n, var, bias, kappa = _layer_coefficients(net.layers, weight_law)
    y0, p0, n0 = _input_statistics(input, net.input_width, kappa[0] != 3.0)
    log_y, log_q, _, log_v = _log_recursion(n, _log(var), _log(bias), kappa - 3.0, float(_log(y0)),
                                            2.0 * float(_log(y0)), float(_log(0.0 if p0 is None else p0)))
    ln = np.log(n)
    log_mean, log_second, log_var = log_y - ln, log_q - 2 * ln, log_v - 2 * ln
    fan_in = np.concatenate([[np.nan if n0 is None else n0], n[:-1]])
    return LengthMoments(
        mean=_exp_checked(log_mean, "mean"), second_moment=_exp_checked(log_second, "second_moment"),
        var=_exp_checked(log_var, "var"), log_mean=log_mean, log_second_moment=log_second, log_var=log_var,
        widths=tuple(int(w) for w in n), input_mean=None if n0 is None else y0 / n0,
        gains=fan_in * var / 2.0, offsets=bias / 2.0, kappas=kappa)


def _logsumexp_signed(logs, signs):
    """``log |sum_i signs_i exp(logs_i)|`` and its sign."""
    logs = np.asarray(logs, dtype=np.float64)
    finite = np.isfinite(logs)
    if not np.any(finite):
        return -np.inf, 0.0
    top = np.max(logs[finite])
    total = float(np.sum(signs[finite] * np.exp(logs[finite] - top)))
    if total == 0.0:
        return -np.inf, 0.0
    return top + math.log(abs(total)), math.copysign(1.0, total)


def _empirical_variance_log(log_mean, log_var, gains):
    r"""log of :math:`E[\widehat{\mathrm{Var}}]` from the layer means, variances and one-step gains.

    :math:`E\widehat{\mathrm{Var}} = \frac{1}{d^2}\sum_i \mathrm{Var}[M_i](d - 1 - 2A_i) + \widehat{\mathrm{Var}}(E M_j)`,
    :math:`A_i = \sum_{j > i} \prod_{k=i+1}^j \alpha_k` (:math:`A_d = 0`, :math:`A_i = \alpha_{i+1}(1 + A_{i+1})`).
    """
    d = len(log_mean)
    log_a = _log_suffix_gains(_log(gains))
    with np.errstate(divide="ignore"):
        logs = np.concatenate([log_var + math.log(d - 1) if d > 1 else np.full(d, -np.inf),
                               log_var + math.log(2.0) + log_a])
    signs = np.concatenate([np.ones(d), -np.ones(d)])
    # empirical variance of the means: (1/d) sum (E M_j - mean)^2, scaled by the largest mean
    top = np.max(log_mean) if np.any(np.isfinite(log_mean)) else 0.0
    scaled = np.exp(log_mean - top)
    spread = float(np.mean((scaled - scaled.mean()) ** 2))
    with np.errstate(divide="ignore"):
        log_spread = math.log(spread) + 2 * top + 2 * math.log(d) if spread > 0 else -np.inf
    logs = np.append(logs, log_spread)
    signs = np.append(signs, 1.0)
    value, sign = _logsumexp_signed(logs, signs)
    if sign < 0:  # roundoff in a vanishing quantity
        return -np.inf
    return value - 2 * math.log(d)


def _empirical_variance(log_mean, log_var, gains):
    lv = _empirical_variance_log(log_mean, log_var, gains)
    if lv > _LOG_MAX:
        warnings.warn("empirical_variance exceeds float64: returned as inf", SigdistWarning, stacklevel=3)
        return math.inf
    return math.exp(lv)


def empirical_variance(network, input=None, *, weight_law=None, initializer=None) -> float:
    r"""Exact mean of the empirical variance of :math:`(M_1, \dots, M_d)` across layers (FM2).

    .. math::
        E[\widehat{\mathrm{Var}}[M]] = \frac1d\sum_j E[M_j^2] - \frac1{d^2}\Big(\sum_j E[M_j^2]
        + 2\sum_{i<j} E[M_i M_j]\Big),

    with :math:`E[M_i M_j] = a_{ij} E[M_i^2] + b_{ij} E[M_i]` (:math:`E[M_j \mid \mathcal F_i] = a_{ij} M_i
    + b_{ij}`, :math:`a_{ij} = \prod_{k=i+1}^j \alpha_k`, :math:`\alpha_k = n_{k-1}\sigma_k^2/2`), evaluated
    without cancellation as :math:`\frac1{d^2}\sum_i \mathrm{Var}[M_i](d-1-2A_i)` plus the empirical variance
    of the means, :math:`A_i = \sum_{j>i} a_{ij}`, in :math:`O(d)`.

    Parameters are those of :func:`length_moments`.

    Returns
    -------
    float

    References
    ----------
    Hanin & Rolnick (2018), §3.3, Theorem 3, Corollary 2 (eq. 6, 7).

    Examples
    --------
    >>> from sigdist.lengths import empirical_variance
    >>> round(empirical_variance([10, 10, 10]), 12)   # (1/4) E[(M_1 - M_2)^2] = (1.5 * 1.5 - 1.5) / 4
    0.1875
    """
    return length_moments(network, input, weight_law=weight_law, initializer=initializer).empirical_variance()


# -- the printed bounds --------------------------------------------------------------------------

@dataclass(frozen=True)
class Theorem5Bounds:
    r"""Theorem 5, eq. 5, for every depth ``j = 1..d`` of a network, beside the exact :math:`E[M_j^2]`.

    Attributes
    ----------
    exact : ndarray
        :math:`E[M_j^2]`.
    lower : ndarray
        :math:`\exp(\frac12 \sum_{i \le j} 1/n_i)`.
    upper : ndarray
        :math:`C_1 \exp(C_2 \sum_{i \le j} 1/n_i)` with the printed general constants.
    upper_gaussian : ndarray or None
        The same with :math:`C_1 = C_2 = 4` where the theorem allows it (Gaussian weights, :math:`M_0 = 1`,
        :math:`\sum \nu_2 \le 1`, :math:`\nu_4 \le 1`), else None.
    C1, C2 : float
    sum_reciprocal_widths : ndarray
        :math:`\sum_{i \le j} 1/n_i`.
    log_exact, log_upper, log_upper_gaussian : ndarray
        Logs (exact at any depth).
    """

    exact: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    upper_gaussian: np.ndarray | None
    C1: float
    C2: float
    sum_reciprocal_widths: np.ndarray
    log_exact: np.ndarray
    log_upper: np.ndarray
    log_upper_gaussian: np.ndarray | None

    @property
    def lower_holds(self):
        return self.log_exact >= 0.5 * self.sum_reciprocal_widths

    @property
    def upper_holds(self):
        return self.log_exact <= self.log_upper

    @property
    def upper_gaussian_holds(self):
        return None if self.log_upper_gaussian is None else self.log_exact <= self.log_upper_gaussian


def _check_definition1(net, rtol=1e-9):
    """Hanin & Rolnick's Definition 1: the weights of layer j have variance 2 / n_{j-1}."""
    if net.input_width is None:
        raise ValueError("the printed bounds need n_0: give the Network an input_width")
    fan_in = [net.input_width] + net.widths[:-1]
    for j, (layer, m) in enumerate(zip(net.layers, fan_in)):
        if abs(layer.weight_variance * m / 2 - 1) > rtol:
            raise ValueError(f"Theorem 5 assumes weight variance 2/fan-in (Definition 1); layer {j + 1} has "
                             f"{layer.weight_variance:.6g} = {layer.weight_variance * m / 2:.6g} x 2/{m}")


def theorem5_bounds(network, input=None, *, initializer=None) -> Theorem5Bounds:
    r"""Theorem 5's bounds (eq. 5) on :math:`E[M_d^2]`, as printed, beside the exact value.

    .. math::
        \exp\Big[\frac12 \sum_{j=1}^d \frac1{n_j}\Big] \le E[M_d^2] \le C_1 \exp\Big[C_2 \sum_{j=1}^d
        \frac1{n_j}\Big],

    :math:`C_1 = 1 + M_0^2 + (M_0 + \sum_j \nu_2^{(j)})\sum_j \nu_2^{(j)}`,
    :math:`C_2 = \max_j \max\{1, \frac14\nu_4^{(j)} - \frac12(\nu_2^{(j)})^2, 2|\tilde\mu_4^{(j)} - 3|\}
    (2 + M_0 + \sum_j \nu_2^{(j)})`, with :math:`\nu_2 = \sigma_b^2`, :math:`\nu_4 = 3\sigma_b^4` (Gaussian
    biases) and :math:`\tilde\mu_4 = \kappa` the standardised fourth moment of the weights (the print does not
    define :math:`\tilde\mu_4`; this is the reading under which the Gaussian term vanishes). The sums over
    :math:`j` run over the network's layers. With :math:`M_0 = 1`, :math:`\sum\nu_2 \le 1`,
    :math:`\nu_4 \le 1` and Gaussian weights the theorem also allows :math:`C_1 = C_2 = 4`.

    Parameters
    ----------
    network, input, initializer
        As in :func:`length_moments`; the weights must have variance :math:`2/n_{j-1}` (Definition 1).

    Returns
    -------
    Theorem5Bounds
        The exact values violate the printed upper bounds for wide, deep nets (e.g. He normal, n = 100,
        d = 200 with :math:`C_1 = C_2 = 4`): see docs/errata.md.

    References
    ----------
    Hanin & Rolnick (2018), Theorem 5, eq. 5.
    """
    net = _as_network(network, initializer)
    _check_definition1(net)
    moments = length_moments(net, input)
    n, _, bias, kappa = _layer_coefficients(net.layers, None)
    m0 = moments.input_mean
    s_nu2 = float(np.sum(bias))
    c1 = 1 + m0 ** 2 + (m0 + s_nu2) * s_nu2
    c2 = float(np.max(np.maximum(np.maximum(1.0, 0.75 * bias ** 2 - 0.5 * bias ** 2), 2 * np.abs(kappa - 3)))) * (
        2 + m0 + s_nu2)
    s = np.cumsum(1.0 / n)
    log_upper = math.log(c1) + c2 * s
    gaussian_case = (np.all(kappa == 3.0) and abs(m0 - 1) < 1e-12 and s_nu2 <= 1 and np.all(3 * bias ** 2 <= 1))
    log_up_g = math.log(4.0) + 4.0 * s if gaussian_case else None
    with np.errstate(over="ignore"):
        return Theorem5Bounds(
            exact=moments.second_moment, lower=np.exp(0.5 * s), upper=np.exp(log_upper),
            upper_gaussian=None if log_up_g is None else np.exp(log_up_g), C1=c1, C2=c2,
            sum_reciprocal_widths=s, log_exact=moments.log_second_moment, log_upper=log_upper,
            log_upper_gaussian=log_up_g)


def corollary1_mean(network, input=None, *, initializer=None):
    r"""Corollary 1 as printed, :math:`\kappa^d M_0 + \sum_j \kappa^{d-j}\nu_2^{(j)}`, beside the exact :math:`E[M_j]`.

    :math:`\kappa = n_{j-1}E[W_j^2]/2` must be the same for every layer. The exact mean is
    :math:`\kappa^d M_0 + \sum_j \kappa^{d-j}\nu_2^{(j)}/2`: the print lacks the factor 1/2 on the biases
    (docs/errata.md); without biases the two agree.

    Returns
    -------
    printed, exact : ndarray, shape (d,)

    References
    ----------
    Hanin & Rolnick (2018), Corollary 1.
    """
    net = _as_network(network, initializer)
    moments = length_moments(net, input)
    if moments.input_mean is None:
        raise ValueError("Corollary 1 needs n_0: give the Network an input_width")
    fan_in = np.array([net.input_width] + net.widths[:-1], dtype=np.float64)
    kappas = np.array([l.weight_variance for l in net.layers]) * fan_in / 2
    if np.ptp(kappas) > 1e-12 * kappas[0]:
        raise ValueError(f"Corollary 1 needs one kappa = fan_in E[W^2] / 2 for every layer, got {kappas}")
    k = float(kappas[0])
    printed = np.empty(net.depth)
    value = moments.input_mean
    for j, layer in enumerate(net.layers):
        value = k * value + layer.sigma_b2
        printed[j] = value
    return printed, moments.mean


@dataclass(frozen=True)
class Corollary2Bounds:
    r"""Corollary 2 (eq. 6) for one network: :math:`f(c) = \frac{c}{d}\sum_{j=1}^d \frac{j-1}{d} e^{c S_j}`,
    :math:`S_j = \sum_{k=j}^{d-1} 1/n_k`, beside the exact :math:`E[\widehat{\mathrm{Var}}[M]]`.

    Attributes
    ----------
    exact : float
    lower, upper : float
        :math:`f(c)` and :math:`f(C)` for the constants given.
    c_max : float
        The largest ``c`` with :math:`f(c) \le` exact (the lower bound of eq. 6 holds for ``c <= c_max``).
    C_min : float
        The smallest ``C`` with :math:`f(C) \ge` exact.
    """

    exact: float
    lower: float
    upper: float
    c_max: float
    C_min: float


def _cor2_log_f(c, suffix, d):
    """log f(c) in logs (the sum overflows float64 for deep narrow nets)."""
    j = np.arange(2, d + 1)
    terms = np.log((j - 1) / d) + c * suffix[1:]
    top = float(np.max(terms))
    return math.log(c) - math.log(d) + top + math.log(float(np.sum(np.exp(terms - top))))


def _cor2_f(c, suffix, d):
    if d == 1:
        return 0.0
    lf = _cor2_log_f(c, suffix, d)
    return math.inf if lf > _LOG_MAX else math.exp(lf)


def _ev_inputs(net, input):
    r = length_moments(net, input)
    return r.log_mean, r.log_var, r.gains


def corollary2_bounds(network, c=1.0, C=5.0, input=None, *, initializer=None) -> Corollary2Bounds:
    r"""Corollary 2's two-sided bound (eq. 6) as printed, with given constants, and the constants it would need.

    .. math::
        \frac{c}{d}\sum_{j=1}^d \frac{j-1}{d}\exp\Big(c\sum_{k=j}^{d-1}\frac1{n_k}\Big) \le
        E[\widehat{\mathrm{Var}}[M]] \le \frac{C}{d}\sum_{j=1}^d \frac{j-1}{d}\exp\Big(C\sum_{k=j}^{d-1}\frac1{n_k}\Big).

    The print says only "there exist :math:`c, C > 0`". ``c_max`` shows that no width-independent ``c``
    exists: at fixed depth :math:`\ge 2`, :math:`E[\widehat{\mathrm{Var}}] \to 0` as the widths grow while the
    left side tends to :math:`c (d-1)/(2d) > 0` (docs/errata.md).

    References
    ----------
    Hanin & Rolnick (2018), Corollary 2, eq. 6.
    """
    net = _as_network(network, initializer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SigdistWarning)
        exact = empirical_variance(net, input)
    widths = np.asarray(net.widths, dtype=np.float64)
    d = net.depth
    recip = 1.0 / widths
    # S_j = sum_{k=j}^{d-1} 1/n_k, j = 1..d (S_d = 0)
    suffix = np.array([recip[j - 1:d - 1].sum() for j in range(1, d + 1)])
    for name, v in (("c", c), ("C", C)):
        if not (isinstance(v, numbers.Real) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
    lower, upper = _cor2_f(c, suffix, d), _cor2_f(C, suffix, d)
    if d == 1 or exact == 0:
        c_max, c_min = (math.inf, 0.0) if exact >= 0 and d == 1 else (0.0, 0.0)
    else:
        log_exact = _empirical_variance_log(*_ev_inputs(net, input))

        def g(x):
            return _cor2_log_f(x, suffix, d) - log_exact
        hi = 1.0
        while g(hi) < 0 and hi < 1e6:
            hi *= 2
        lo = 1.0
        while g(lo) > 0 and lo > 1e-300:
            lo /= 2
        root = optimize.brentq(g, lo, hi, xtol=1e-14, rtol=1e-12) if g(lo) <= 0 <= g(hi) else math.nan
        c_max = c_min = root
    return Corollary2Bounds(exact=exact, lower=lower, upper=upper, c_max=c_max, C_min=c_min)


# -- residual nets -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ResidualLengthMoments:
    r"""Exact moments of :math:`M^{res}_\ell = |x_\ell|^2 / n`, ``l = 1..L`` (index 0 is module 1).

    Attributes
    ----------
    mean, second_moment, var : ndarray, shape (L,)
    log_mean, log_second_moment, log_var : ndarray
    gains : ndarray, shape (L,)
        :math:`E[M_\ell \mid x_{\ell-1}] = \mathrm{gains}_\ell M_{\ell-1}`: :math:`1 + \eta_\ell^2 n \sigma_o^2 E[G_\ell]`.
    etas : ndarray
    input_mean : float or None
    """

    mean: np.ndarray
    second_moment: np.ndarray
    var: np.ndarray
    log_mean: np.ndarray
    log_second_moment: np.ndarray
    log_var: np.ndarray
    gains: np.ndarray
    etas: np.ndarray
    input_mean: float | None

    @property
    def sum_eta(self) -> float:
        return float(np.sum(self.etas))

    @property
    def sum_eta_squared(self) -> float:
        return float(np.sum(self.etas ** 2))

    def empirical_variance(self) -> float:
        r"""Exact :math:`E[\widehat{\mathrm{Var}}[M^{res}]]` across modules (§3.4, Theorem 4)."""
        return _empirical_variance(self.log_mean, self.log_var, self.gains)


def linear_readout_residual(width, hidden, etas) -> ResidualNetwork:
    r"""A :class:`~sigdist.network.ResidualNetwork` whose modules are ``width -> hidden... -> width`` with He
    weights (``2 / fan_in``), zero biases, relu hidden layers and a *linear* read-out layer.

    Fig. 2a's modules ("a single hidden layer of width 5") are ``hidden=[5]``. This is the model in which
    :func:`residual_length_moments` is exact.
    """
    width = check_width(width, "width")
    hidden = [check_width(h, f"hidden[{i}]") for i, h in enumerate(hidden)]
    etas = _check_etas(etas)
    sizes = [width, *hidden, width]
    layers = [Layer(sizes[i], 2.0 / sizes[i - 1], 0.0, "relu") for i in range(1, len(sizes) - 1)]
    layers.append(Layer(width, 2.0 / sizes[-2], 0.0, "linear"))
    module = Network(layers, input_width=width)
    return ResidualNetwork([module] * len(etas), list(etas))


def _check_etas(etas):
    if isinstance(etas, (str, bytes)) or not hasattr(etas, "__len__"):
        raise ValueError(f"etas must be a sequence of scales eta_l >= 0, got {etas!r}")
    out = []
    for i, e in enumerate(etas):
        if isinstance(e, bool) or not isinstance(e, numbers.Real) or not math.isfinite(e) or e < 0:
            raise ValueError(f"etas[{i}] must be a finite number >= 0, got {e!r}")
        out.append(float(e))
    if not out:
        raise ValueError("etas must hold at least one scale (depth >= 1 module), got an empty sequence")
    return np.array(out)


def _module_coefficients(module, index):
    """``(E G, E G^2, sigma_o^2)``: G = |h_k|^2/|x|^2 after the relu hidden layers, sigma_o^2 the read-out variance."""
    if not isinstance(module, Network):
        raise ValueError(f"modules[{index}] must be a sigdist.Network")
    for j, layer in enumerate(module.layers):
        if not layer.is_gaussian_iid or layer.sigma_b2 != 0:
            raise ValueError(f"modules[{index}] layer {j + 1}: the exact residual moments need i.i.d. Gaussian "
                             "weights and zero biases (Hanin & Rolnick §3.2)")
    *hidden, readout = module.layers
    if readout.activation.name != "linear":
        raise ValueError(
            f"modules[{index}] ends in {readout.activation.name!r}: with a relu read-out the cross term "
            "2 eta E<x, N(x)> is not odd in the last weights and depends on sum_i x_i |x|, so no closed recursion "
            "in the moments exists; exact moments need a linear read-out (linear_readout_residual), simulate "
            "the relu read-out with sigdist.montecarlo.simulate")
    eg, eg2 = 1.0, 1.0
    for j, layer in enumerate(hidden):
        if layer.activation.name != "relu":
            raise ValueError(f"modules[{index}] hidden layer {j + 1} must be relu, got {layer.activation.name!r}")
        n, w = layer.width, layer.sigma_w2
        eg *= w * n / 2
        eg2 *= w * w * n * (n + 5) / 4
    return eg, eg2, readout.sigma_w2


def residual_length_moments(modules, etas=None, input=None) -> ResidualLengthMoments:
    r"""Exact :math:`E[M^{res}_\ell]`, :math:`E[(M^{res}_\ell)^2]` of a residual ReLU net with linear read-outs.

    :math:`x_\ell = x_{\ell-1} + \eta_\ell \mathcal N_\ell(x_{\ell-1})` (eq. 1, as
    :func:`sigdist.montecarlo.simulate` runs a :class:`~sigdist.network.ResidualNetwork`), each module
    :math:`\mathcal N_\ell(x) = W_o h_k`, :math:`h_k` the relu hidden layers of ``x``, Gaussian weights, zero
    biases; :math:`M^{res}_\ell = |x_\ell|^2 / n` (the paper's :math:`\|\mathcal N^{res}_\ell(x)\|^2` for
    :math:`|x| = 1` is ``n`` times this).

    Parameters
    ----------
    modules : ResidualNetwork or sequence of Network
        Modules ``n -> ... -> n`` whose last layer is ``"linear"`` (:func:`linear_readout_residual`).
    etas : sequence of float, optional
        Scales :math:`\eta_\ell \ge 0` (taken from a ResidualNetwork when omitted).
    input : array_like or float, optional
        Input vector or its squared norm; default :math:`M_0 = 1`.

    Returns
    -------
    ResidualLengthMoments

    Raises
    ------
    ValueError
        For :math:`\eta_\ell < 0`, no modules, mismatched lengths, non-Gaussian or biased layers, or a relu
        read-out (no closed recursion: the message says why).

    Notes
    -----
    Given :math:`x` (:math:`Y = |x|^2`) and the hidden layers, :math:`\mathcal N(x) \sim N(0, \sigma_o^2 R I_n)`,
    :math:`R = |h_k|^2 = Y G` with :math:`G` independent of :math:`x`, :math:`E G = \prod_j n_j\sigma_j^2/2`,
    :math:`E G^2 = \prod_j \sigma_j^4 n_j(n_j+5)/4`. The odd terms of
    :math:`|x + \eta\mathcal N|^2 = Y + 2\eta\langle x, \mathcal N\rangle + \eta^2|\mathcal N|^2` vanish, so

    .. math::
        E[Y' \mid x] &= Y (1 + \eta^2 n\sigma_o^2 E G), \\
        E[Y'^2 \mid x] &= Y^2 \big(1 + (2n + 4)\eta^2\sigma_o^2 E G + \eta^4\sigma_o^4 n(n+2) E G^2\big).

    For He modules :math:`n\sigma_o^2 E G = 2`: :math:`E[M^{res}_L] = M_0\prod_\ell (1 + 2\eta_\ell^2)`, which
    grows like :math:`\exp(2\sum\eta_\ell^2)`, not :math:`\exp(c\sum\eta_\ell)` (Theorem 2, 6; eq. 8 holds
    with :math:`\sum\eta_\ell^2`): docs/errata.md. The paper's Definition puts a relu on every layer, read-out
    included; that model (``ResidualNetwork.uniform``) has a non-vanishing cross term and is checked by Monte
    Carlo in ``validation/fig2a_residual.py``.

    References
    ----------
    Hanin & Rolnick (2018), eq. 1, Theorems 2, 4, 6.

    Examples
    --------
    >>> from sigdist.lengths import linear_readout_residual, residual_length_moments
    >>> r = residual_length_moments(linear_readout_residual(5, [5], [0.5, 0.5]))
    >>> round(float(r.mean[-1]), 12)   # (1 + 2 * 0.25)^2
    2.25
    """
    if isinstance(modules, ResidualNetwork):
        if etas is None:
            etas = modules.etas
        modules = modules.modules
    if etas is None:
        raise ValueError("etas must be given (one scale eta_l >= 0 per module)")
    etas = _check_etas(etas)
    if isinstance(modules, Network) or not hasattr(modules, "__len__") or len(modules) == 0:
        raise ValueError("modules must be a ResidualNetwork or a non-empty sequence of Network (depth >= 1)")
    if len(modules) != len(etas):
        raise ValueError(f"etas must have one scale per module ({len(modules)}), got {len(etas)}")
    coeffs = [_module_coefficients(m, i) for i, m in enumerate(modules)]
    width = modules[0].input_width
    for i, m in enumerate(modules):
        if m.input_width is None or m.input_width != width or m.layers[-1].width != width:
            raise ValueError(f"modules[{i}] must map the residual width {width} to itself")
    y0, _, n0 = _input_statistics(input, width, False)
    n = float(width)
    ly, lq, lv = math.log(y0) if y0 > 0 else -np.inf, 2 * math.log(y0) if y0 > 0 else -np.inf, -np.inf
    out = np.empty((3, len(etas)))
    gains = np.empty(len(etas))
    for i, ((eg, eg2, so2), eta) in enumerate(zip(coeffs, etas)):
        e2 = eta * eta
        a = 1 + e2 * n * so2 * eg
        c = 1 + (2 * n + 4) * e2 * so2 * eg + e2 * e2 * so2 * so2 * n * (n + 2) * eg2
        r = (2 * n + 4) * e2 * so2 * eg + e2 * e2 * so2 * so2 * (n * (n + 2) * eg2 - n * n * eg * eg)
        # Var[Y'] = a^2 Var[Y] + r E[Y^2]
        lv = np.logaddexp(2 * math.log(a) + lv, (math.log(r) if r > 0 else -np.inf) + lq)
        ly, lq = ly + math.log(a), lq + math.log(c)
        out[:, i] = ly, lq, lv
        gains[i] = a
    log_mean, log_second, log_var = out[0] - math.log(n), out[1] - 2 * math.log(n), out[2] - 2 * math.log(n)
    return ResidualLengthMoments(
        mean=_exp_checked(log_mean, "mean"), second_moment=_exp_checked(log_second, "second_moment"),
        var=_exp_checked(log_var, "var"), log_mean=log_mean, log_second_moment=log_second, log_var=log_var,
        gains=gains, etas=etas, input_mean=y0 / n0)


def _parse_widths(spec):
    """``"20x100"`` (width x depth) or ``"30,10,30"`` -> hidden widths n_1..n_d."""
    spec = str(spec).strip()
    try:
        if "x" in spec:
            width, depth = spec.split("x")
            width, depth = int(width), int(depth)
            if depth < 1:
                raise ValueError(f"depth must be an integer >= 1, got {depth} in --widths {spec!r}")
            return [check_width(width, "width")] * depth
        return [check_width(int(w), f"widths[{i}]") for i, w in enumerate(spec.split(","))]
    except ValueError as err:
        if "must" in str(err):
            raise
        raise ValueError(f"widths must be WIDTHxDEPTH or a comma list of integers >= 1, got {spec!r}") from None


def lengths_report(widths, initializer="he_normal", sigma_b2=0.0) -> dict:
    """The numbers ``sigdist lengths`` prints (the CLI does no numerics): E[M_d], Var[M_d], sum 1/n_j,
    E[empirical variance] and Theorem 5's bounds, for hidden widths given as ``"20x100"`` or ``"30,10,30"``
    (``n_0 = n_1``, input ``act_0 = (1, ..., 1)``, so ``M_0 = 1``)."""
    if not isinstance(widths, str) and not hasattr(widths, "__iter__"):
        raise ValueError(f"widths must be 'WIDTHxDEPTH', a comma list or a sequence of integers, got {widths!r}")
    hidden = _parse_widths(widths) if isinstance(widths, str) else list(widths)
    net = initializer_network(initializer, [hidden[0], *hidden], sigma_b2)
    x0 = np.ones(hidden[0])
    r = length_moments(net, x0)
    out = {"network": f"{initializer}, depth {net.depth}, widths {hidden[0]}..{hidden[-1]}, sigma_b2 = {sigma_b2:g}",
           "E[M_d]": f"{r.mean[-1]:.10g}", "E[M_d^2]": f"{r.second_moment[-1]:.10g}",
           "Var[M_d]": f"{r.var[-1]:.10g}", "log_E[M_d^2]": f"{r.log_second_moment[-1]:.10g}",
           "sum_1/n_j": f"{r.sum_reciprocal_widths:.10g}", "E[empirical_variance]": f"{r.empirical_variance():.10g}"}
    try:
        t = theorem5_bounds(net, x0)
    except ValueError as err:
        out["theorem5"] = f"not applicable: {err}"
        return out
    out.update({"thm5_lower": f"{t.lower[-1]:.10g}", "thm5_upper(C1,C2)": f"{t.upper[-1]:.10g}",
                "C1,C2": f"{t.C1:g}, {t.C2:g}", "upper_holds(C1,C2)": f"{bool(t.upper_holds[-1])}"})
    if t.upper_gaussian is not None:
        out.update({"thm5_upper(C1=C2=4)": f"{t.upper_gaussian[-1]:.10g}",
                    "upper_holds(C1=C2=4)": f"{bool(t.upper_gaussian_holds[-1])}"})
    return out
