r"""Hanin & Rolnick's failure modes FM1 and FM2, exactly, at finite width: the length moments.

Hanin & Rolnick (2018) tie early trainability to the normalised squared activation lengths

.. math:: M_j = \frac{1}{n_j} \|\mathrm{act}^{(j)}\|^2, \qquad j = 1, \dots, d,

of a fully connected ReLU net: FM1 is an exploding or vanishing mean :math:`E[M_d]`, FM2 a large
mean :math:`E[\widehat{\mathrm{Var}}[M]]` of the empirical variance of :math:`(M_1, \dots, M_d)`
across layers. This module gives the exact finite-width values of both (:func:`length_moments`,
:func:`empirical_variance`). Related modules: :mod:`sigdist.initializers` (the initialisers users
call), :mod:`sigdist.length_bounds` (Theorem 5 and Corollaries 1, 2 as printed),
:mod:`sigdist.residual_lengths` (residual nets).

Layer ``j`` draws its weights i.i.d. from a symmetric law (:mod:`sigdist.weights`) of variance
:math:`\sigma_j^2` and standardised fourth moment :math:`\kappa_j = \mu_4 / \sigma_j^4`
(``WeightLaw.kurtosis``: 3 Gaussian, 9/5 uniform, 2.3655 for the normal cut at :math:`\pm 2\sigma`)
and its biases from :math:`N(0, \sigma_{b,j}^2)`. With :math:`Y = |a|^2` and :math:`P = \sum_k a_k^4`
of the previous activations ``a``, each pre-activation :math:`z_i = \sum_k W_{ik} a_k + b_i` is
symmetric with

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
*input vector* ``x0`` matters through :math:`P_0 = \sum_k x_{0,k}^4`, not only its squared norm
``y0``. For He weights (:math:`\sigma^2 = 2/n_{j-1}`, Gaussian, no bias), :math:`E[M_j^2] = (1 + 5/n_j)
E[M_{j-1}^2]`: :math:`E[M_d^2] = M_0^2 \prod_j (1 + 5/n_j)`, the FM2 mechanism.

Since :math:`E[M_j \mid \mathcal F_{j-1}] = \alpha_j M_{j-1} + \sigma_{b,j}^2/2` with
:math:`\alpha_j = n_{j-1}\sigma_j^2/2`, :math:`\mathrm{Cov}(M_i, M_j) = \alpha_{i+1}\cdots\alpha_j
\mathrm{Var}[M_i]` for :math:`i < j`, which gives :math:`E[\widehat{\mathrm{Var}}[M]]` in
:math:`O(d)`.

Every recursion runs in logs (depth :math:`10^4` in about a millisecond); values beyond float64 are
returned as ``inf`` with a :class:`~sigdist.SigdistWarning` naming the quantity, and the logs
are always exact.

References
----------
B. Hanin and D. Rolnick, *How to Start Training: The Effect of Initialization and Architecture*,
NeurIPS 2018: §3.1-3.4, Theorem 1, Theorem 5 (eq. 5), Corollaries 1 and 2 (eq. 6, 7).
Disagreements with the printed statements: ``docs/errata.md``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from ._lengths_common import (empirical_variance_log, empirical_variance_value, exp_checked, input_statistics, lae,
                              lae_signed, log0)
from ._numba import njit
from ._result import Result
from .network import as_network
from .weights import get_weight_law

__all__ = ["LengthMoments", "empirical_variance", "length_moments"]


@dataclass(frozen=True, repr=False)
class LengthMoments(Result):
    r"""Exact moments of :math:`M_j = |\mathrm{act}^{(j)}|^2 / n_j`, ``j = 1..d`` (index 0 is layer 1).

    Attributes
    ----------
    length_mean, length_second_moment, length_variance : ndarray, shape (d,)
        :math:`E[M_j]`, :math:`E[M_j^2]`, :math:`\mathrm{Var}[M_j]` (``inf`` past float64, with a warning).
    log_length_mean, log_length_second_moment, log_length_variance : ndarray, shape (d,)
        Their natural logs, exact at any depth (``-inf`` for 0).
    widths : tuple of int
        :math:`(n_1, \dots, n_d)`.
    input_mean : float or None
        :math:`M_0 = |x_0|^2 / n_0` (None when :math:`n_0` is unknown).
    gains, offsets : ndarray, shape (d,)
        :math:`E[M_j \mid \mathcal F_{j-1}] = \mathrm{gains}_j M_{j-1} + \mathrm{offsets}_j`
        (:math:`\alpha_j = n_{j-1}\sigma_j^2/2`, :math:`\sigma_{b,j}^2/2`); entry 0 is NaN when
        :math:`n_0` is unknown.
    weight_kurtosis : ndarray, shape (d,)
        Standardised fourth moments :math:`\kappa_j` of the layers' weight laws.

    ``to_xarray()`` labels every array by ``layer`` (1..d).
    """

    length_mean: np.ndarray
    length_second_moment: np.ndarray
    length_variance: np.ndarray
    log_length_mean: np.ndarray
    log_length_second_moment: np.ndarray
    log_length_variance: np.ndarray
    widths: tuple
    input_mean: float | None
    gains: np.ndarray
    offsets: np.ndarray
    weight_kurtosis: np.ndarray

    _dims = {name: ("layer",) for name in (
        "length_mean", "length_second_moment", "length_variance", "log_length_mean", "log_length_second_moment",
        "log_length_variance", "widths", "gains", "offsets", "weight_kurtosis")}
    _coords = {"layer": lambda self: np.arange(1, self.depth + 1)}

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
        return float(a * self.length_second_moment[i - 1] + b * self.length_mean[i - 1])

    def empirical_variance(self) -> float:
        r"""Exact :math:`E[\widehat{\mathrm{Var}}[M]]`, :math:`\widehat{\mathrm{Var}}[M] = \frac1d\sum_j M_j^2 - (\frac1d \sum_j M_j)^2`.

        See :func:`empirical_variance`.
        """
        return empirical_variance_value(self.log_length_mean, self.log_length_variance, self.gains)

    def log_empirical_variance(self) -> float:
        r""":math:`\log E[\widehat{\mathrm{Var}}[M]]`, exact where the value itself overflows float64."""
        return empirical_variance_log(self.log_length_mean, self.log_length_variance, self.gains)


def _layer_coefficients(layers, weight_law):
    """Per layer: width n, actual weight variance, bias variance, weight kurtosis (from sigdist.weights)."""
    n = np.empty(len(layers))
    var = np.empty(len(layers))
    bias = np.empty(len(layers))
    kappa = np.empty(len(layers))
    override = None if weight_law is None else get_weight_law(weight_law)
    for j, layer in enumerate(layers):
        if layer.activation.name != "relu":
            raise ValueError(f"length moments are for relu nets (Hanin & Rolnick); layer {j + 1} has activation "
                             f"{layer.activation.name!r}")
        if layer.sharing != "none" or layer.batch_norm or layer.residual:
            raise ValueError(f"layer {j + 1}: the exact length moments need i.i.d. weights without sharing, batch "
                             "norm or skip connection (simulate it with sigdist.montecarlo.simulate)")
        law = layer.weight_law if override is None else override
        if law.kurtosis is None:
            raise ValueError(f"layer {j + 1}: the exact second moments need the weight law's fourth moment of i.i.d. "
                             f"entries, which weight_law={law.name!r} has not (a callable sampler: give a "
                             "sigdist.weights.WeightLaw with its kurtosis E[u^4]/E[u^2]^2; 'orthogonal': its entries "
                             "are not independent)")
        n[j] = layer.width
        var[j] = layer.sigma_w2 * law.variance_factor
        bias[j] = layer.sigma_b2
        kappa[j] = law.kurtosis
    return n, var, bias, kappa


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
        ls2 = lae(lae(2.0 * lw + lq, math.log(2.0) + lw + lb + ly), 2.0 * lb)
        lkp = -np.inf
        sign = 1.0
        if k3 != 0.0:
            lkp = math.log(abs(k3)) + 2.0 * lw + lp
            sign = 1.0 if k3 > 0 else -1.0
        ly_new = ln - math.log(2.0) + lae(lw + ly, lb)
        lq_new = lae_signed(ln + math.log(n[j] + 5.0) - math.log(4.0) + ls2, ln - math.log(2.0) + lkp, sign)
        lp_new = ln - math.log(2.0) + lae_signed(math.log(3.0) + ls2, lkp, sign)
        # law of total variance: Var Y' = (n sigma^2/2)^2 Var Y + E Var[Y'|a], free of cancellation
        lv_new = lae(2.0 * (ln + lw - math.log(2.0)) + lv,
                     lae_signed(ln + math.log(1.25) + ls2, ln - math.log(2.0) + lkp, sign))
        ly, lq, lp, lv = ly_new, lq_new, lp_new, lv_new
        out_y[j] = ly
        out_q[j] = lq
        out_p[j] = lp
        out_v[j] = lv
    return out_y, out_q, out_p, out_v


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


def length_moments(network, y0=None, *, x0=None, weight_law=None) -> LengthMoments:
    r"""Exact :math:`E[M_j]`, :math:`E[M_j^2]`, :math:`\mathrm{Var}[M_j]` of a fully connected ReLU net.

    Parameters
    ----------
    network : Network, Layer, list of Layer, or list of widths
        Anything :func:`sigdist.as_network` takes (widths ``[N_0, ..., N_L]`` mean He normal; other
        initialisers: :func:`sigdist.initializers.initializer_network`). relu layers with i.i.d. weights
        (any symmetric law of :mod:`sigdist.weights` with a known kurtosis) and :math:`N(0, \sigma_b^2)`
        biases.
    y0 : float, optional
        The squared input norm :math:`|x_0|^2`: enough when the first layer is Gaussian (then only the
        norm matters). Default (neither ``y0`` nor ``x0``): :math:`M_0 = 1`, i.e. :math:`|x_0|^2 = N_0`
        (Gaussian first layer only).
    x0 : array_like, optional
        The input vector :math:`x_0 = \mathrm{act}^{(0)}`, needed when the first layer is not Gaussian
        (its second moments depend on :math:`\sum_k x_{0,k}^4`).
    weight_law : str or WeightLaw, optional
        Replaces every layer's weight law (``sigma_w2`` read as :class:`~sigdist.network.Layer` reads it).
        Default: each layer's own law.

    Returns
    -------
    LengthMoments

    Raises
    ------
    ValueError
        For a network :func:`sigdist.as_network` refuses, an unknown law, a callable weight law (unknown
        fourth moment), a non-relu layer, sharing, batch norm or skip connection, a negative or non-finite
        input, both ``y0`` and ``x0``, or ``y0`` where the first layer is not Gaussian.

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
    >>> r = length_moments([10, 10, 10])                # He normal, M_0 = 1
    >>> round(float(r.length_second_moment[-1]), 12)    # (1 + 5/10)^2
    2.25
    """
    net = as_network(network)
    n, var, bias, kappa = _layer_coefficients(net.layers, weight_law)
    y0, p0, n0 = input_statistics(y0, x0, net.input_width, kappa[0] != 3.0)
    log_y, log_q, _, log_v = _log_recursion(n, log0(var), log0(bias), kappa - 3.0, float(log0(y0)),
                                            2.0 * float(log0(y0)), float(log0(0.0 if p0 is None else p0)))
    ln = np.log(n)
    log_mean, log_second, log_var = log_y - ln, log_q - 2 * ln, log_v - 2 * ln
    fan_in = np.concatenate([[np.nan if n0 is None else n0], n[:-1]])
    return LengthMoments(
        length_mean=exp_checked(log_mean, "length_mean"),
        length_second_moment=exp_checked(log_second, "length_second_moment"),
        length_variance=exp_checked(log_var, "length_variance"), log_length_mean=log_mean,
        log_length_second_moment=log_second, log_length_variance=log_var,
        widths=tuple(int(w) for w in n), input_mean=None if n0 is None else y0 / n0,
        gains=fan_in * var / 2.0, offsets=bias / 2.0, weight_kurtosis=kappa)


def empirical_variance(network, y0=None, *, x0=None, weight_law=None) -> float:
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
    return length_moments(network, y0, x0=x0, weight_law=weight_law).empirical_variance()
