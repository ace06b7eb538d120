r"""Hanin & Rolnick's printed bounds on the activation lengths, beside the exact values.

Theorem 5 (eq. 5) bounds :math:`E[M_d^2]`, Corollary 1 gives :math:`E[M_d]` and Corollary 2 (eq. 6)
bounds :math:`E[\widehat{\mathrm{Var}}[M]]`, each up to constants the print leaves open or states.
This module evaluates them as printed and sets them beside the exact values of
:mod:`sigdist.lengths`; where the print and the exact value disagree, ``docs/errata.md`` says why.

References
----------
B. Hanin and D. Rolnick, *How to Start Training: The Effect of Initialization and Architecture*,
NeurIPS 2018: Theorem 5 (eq. 5), Corollaries 1 and 2 (eq. 6).
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ._lengths_common import LOG_MAX
from ._result import Result
from ._warnings import SigdistWarning
from .lengths import length_moments
from .network import as_network

__all__ = ["Corollary1Mean", "Corollary2Bounds", "Theorem5Bounds", "corollary1_mean", "corollary2_bounds",
           "theorem5_bounds"]


@dataclass(frozen=True, repr=False)
class Theorem5Bounds(Result):
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

    ``to_xarray()`` labels the arrays by ``layer`` (1..d).
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

    _dims = {name: ("layer",) for name in ("exact", "lower", "upper", "upper_gaussian", "sum_reciprocal_widths",
                                           "log_exact", "log_upper", "log_upper_gaussian")}
    _coords = {"layer": lambda self: np.arange(1, len(self.exact) + 1)}

    @property
    def lower_holds(self):
        """Whether the printed lower bound holds at each depth (compared in logs)."""
        return self.log_exact >= 0.5 * self.sum_reciprocal_widths

    @property
    def upper_holds(self):
        """Whether the printed upper bound with the general constants holds at each depth."""
        return self.log_exact <= self.log_upper

    @property
    def upper_gaussian_holds(self):
        """Whether the upper bound with :math:`C_1 = C_2 = 4` holds at each depth (None where not allowed)."""
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


def theorem5_bounds(network, y0=None, *, x0=None) -> Theorem5Bounds:
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
    network, y0, x0
        As in :func:`sigdist.lengths.length_moments`; the weights must have variance :math:`2/n_{j-1}`
        (Definition 1) and the network must know its input width :math:`n_0`.

    Returns
    -------
    Theorem5Bounds
        The exact values violate the printed upper bounds for wide, deep nets (e.g. He normal, n = 100,
        d = 200 with :math:`C_1 = C_2 = 4`): see docs/errata.md.

    References
    ----------
    Hanin & Rolnick (2018), Theorem 5, eq. 5.

    Examples
    --------
    >>> from sigdist.length_bounds import theorem5_bounds
    >>> t = theorem5_bounds([100] * 201)      # He normal, width 100, depth 200
    >>> bool(t.upper_gaussian_holds[-1])      # 1.05^200 > 4 exp(4 * 2)
    False
    """
    net = as_network(network)
    _check_definition1(net)
    moments = length_moments(net, y0, x0=x0)
    n = np.asarray(moments.widths, dtype=np.float64)
    bias = 2.0 * moments.offsets  # sigma_b^2 of each layer
    kappa = moments.weight_kurtosis
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
            exact=moments.length_second_moment, lower=np.exp(0.5 * s), upper=np.exp(log_upper),
            upper_gaussian=None if log_up_g is None else np.exp(log_up_g), C1=c1, C2=c2,
            sum_reciprocal_widths=s, log_exact=moments.log_length_second_moment, log_upper=log_upper,
            log_upper_gaussian=log_up_g)


@dataclass(frozen=True, repr=False)
class Corollary1Mean(Result):
    r"""Corollary 1 as printed beside the exact :math:`E[M_j]`, ``j = 1..d``.

    Attributes
    ----------
    printed : ndarray
        :math:`\kappa^j M_0 + \sum_{i \le j} \kappa^{j-i}\nu_2^{(i)}`.
    exact : ndarray
        :math:`E[M_j] = \kappa^j M_0 + \sum_{i \le j} \kappa^{j-i}\nu_2^{(i)}/2`.
    """

    printed: np.ndarray
    exact: np.ndarray

    _dims = {"printed": ("layer",), "exact": ("layer",)}
    _coords = {"layer": lambda self: np.arange(1, len(self.exact) + 1)}


def corollary1_mean(network, y0=None, *, x0=None) -> Corollary1Mean:
    r"""Corollary 1 as printed, :math:`\kappa^d M_0 + \sum_j \kappa^{d-j}\nu_2^{(j)}`, beside the exact :math:`E[M_j]`.

    :math:`\kappa = n_{j-1}E[W_j^2]/2` must be the same for every layer. The exact mean is
    :math:`\kappa^d M_0 + \sum_j \kappa^{d-j}\nu_2^{(j)}/2`: the print lacks the factor 1/2 on the biases
    (docs/errata.md); without biases the two agree.

    Parameters
    ----------
    network, y0, x0
        As in :func:`sigdist.lengths.length_moments`; the network must know its input width :math:`n_0`.

    Returns
    -------
    Corollary1Mean

    References
    ----------
    Hanin & Rolnick (2018), Corollary 1.
    """
    net = as_network(network)
    moments = length_moments(net, y0, x0=x0)
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
    return Corollary1Mean(printed=printed, exact=moments.length_mean)


@dataclass(frozen=True, repr=False)
class Corollary2Bounds(Result):
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
    return math.inf if lf > LOG_MAX else math.exp(lf)


def corollary2_bounds(network, y0=None, *, x0=None, c=1.0, C=5.0) -> Corollary2Bounds:
    r"""Corollary 2's two-sided bound (eq. 6) as printed, with given constants, and the constants it would need.

    .. math::
        \frac{c}{d}\sum_{j=1}^d \frac{j-1}{d}\exp\Big(c\sum_{k=j}^{d-1}\frac1{n_k}\Big) \le
        E[\widehat{\mathrm{Var}}[M]] \le \frac{C}{d}\sum_{j=1}^d \frac{j-1}{d}\exp\Big(C\sum_{k=j}^{d-1}\frac1{n_k}\Big).

    The print says only "there exist :math:`c, C > 0`". ``c_max`` shows that no width-independent ``c``
    exists: at fixed depth :math:`\ge 2`, :math:`E[\widehat{\mathrm{Var}}] \to 0` as the widths grow while the
    left side tends to :math:`c (d-1)/(2d) > 0` (docs/errata.md).

    Parameters
    ----------
    network, y0, x0
        As in :func:`sigdist.lengths.length_moments`.
    c, C : float
        The constants of eq. 6 (finite, ``> 0``).

    Returns
    -------
    Corollary2Bounds

    References
    ----------
    Hanin & Rolnick (2018), Corollary 2, eq. 6.
    """
    for name, v in (("c", c), ("C", C)):
        if isinstance(v, bool) or not (isinstance(v, numbers.Real) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
    net = as_network(network)
    moments = length_moments(net, y0, x0=x0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SigdistWarning)
        exact = moments.empirical_variance()
    widths = np.asarray(net.widths, dtype=np.float64)
    d = net.depth
    recip = 1.0 / widths
    # S_j = sum_{k=j}^{d-1} 1/n_k, j = 1..d (S_d = 0)
    suffix = np.array([recip[j - 1:d - 1].sum() for j in range(1, d + 1)])
    lower, upper = _cor2_f(c, suffix, d), _cor2_f(C, suffix, d)
    if d == 1 or exact == 0:
        c_max, c_min = (math.inf, 0.0) if exact >= 0 and d == 1 else (0.0, 0.0)
    else:
        log_exact = moments.log_empirical_variance()

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
