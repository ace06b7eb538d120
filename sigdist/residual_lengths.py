r"""Exact activation-length moments of residual ReLU nets with linear read-outs (Hanin & Rolnick 2018, §3.4).

:math:`x_\ell = x_{\ell-1} + \eta_\ell \mathcal N_\ell(x_{\ell-1})` (their eq. 1, as
:func:`sigdist.montecarlo.simulate` runs a :class:`~sigdist.network.ResidualNetwork`), each module
:math:`\mathcal N_\ell(x) = W_o h_k` with :math:`h_k` the relu hidden layers of ``x``, Gaussian weights and
zero biases. The cross term :math:`2\eta E\langle x, \mathcal N(x)\rangle` vanishes (it is odd in the
read-out weights), so the moments of :math:`M^{res}_\ell = |x_\ell|^2 / n` close
(:func:`residual_length_moments`). With a relu read-out (the paper's Definition) they do not, and
sigdist refuses it with that reason; ``validation/fig2a_residual.py`` checks that model by Monte Carlo.

References
----------
B. Hanin and D. Rolnick, *How to Start Training: The Effect of Initialization and Architecture*,
NeurIPS 2018: eq. 1, §3.4, Theorems 2, 4, 6 (eq. 8). Disagreements with the print: ``docs/errata.md``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from ._checks import check_width
from ._lengths_common import empirical_variance_value, exp_checked, input_statistics
from ._result import Result
from .network import Layer, Network, ResidualNetwork, as_network

__all__ = ["ResidualLengthMoments", "linear_readout_residual", "residual_length_moments"]


@dataclass(frozen=True, repr=False)
class ResidualLengthMoments(Result):
    r"""Exact moments of :math:`M^{res}_\ell = |x_\ell|^2 / n`, ``l = 1..L`` (index 0 is module 1).

    Attributes
    ----------
    length_mean, length_second_moment, length_variance : ndarray, shape (L,)
        :math:`E[M^{res}_\ell]`, :math:`E[(M^{res}_\ell)^2]`, :math:`\mathrm{Var}[M^{res}_\ell]`.
    log_length_mean, log_length_second_moment, log_length_variance : ndarray, shape (L,)
        Their natural logs, exact at any depth.
    gains : ndarray, shape (L,)
        :math:`E[M_\ell \mid x_{\ell-1}] = \mathrm{gains}_\ell M_{\ell-1}`: :math:`1 + \eta_\ell^2 n \sigma_o^2 E[G_\ell]`.
    etas : ndarray, shape (L,)
        The modules' scales :math:`\eta_\ell`.
    input_mean : float
        :math:`M_0 = |x_0|^2 / n`.

    ``to_xarray()`` labels the arrays by ``layer`` (the module index 1..L).
    """

    length_mean: np.ndarray
    length_second_moment: np.ndarray
    length_variance: np.ndarray
    log_length_mean: np.ndarray
    log_length_second_moment: np.ndarray
    log_length_variance: np.ndarray
    gains: np.ndarray
    etas: np.ndarray
    input_mean: float

    _dims = {name: ("layer",) for name in (
        "length_mean", "length_second_moment", "length_variance", "log_length_mean", "log_length_second_moment",
        "log_length_variance", "gains", "etas")}
    _coords = {"layer": lambda self: np.arange(1, len(self.etas) + 1)}

    @property
    def depth(self) -> int:
        return len(self.etas)

    @property
    def sum_eta(self) -> float:
        return float(np.sum(self.etas))

    @property
    def sum_eta_squared(self) -> float:
        return float(np.sum(self.etas ** 2))

    def empirical_variance(self) -> float:
        r"""Exact :math:`E[\widehat{\mathrm{Var}}[M^{res}]]` across modules (§3.4, Theorem 4)."""
        return empirical_variance_value(self.log_length_mean, self.log_length_variance, self.gains)


def linear_readout_residual(width, hidden, etas) -> ResidualNetwork:
    r"""A :class:`~sigdist.network.ResidualNetwork` whose modules are ``width -> hidden... -> width`` with He
    weights (``2 / fan_in``), zero biases, relu hidden layers and a *linear* read-out layer.

    Fig. 2a's modules ("a single hidden layer of width 5") are ``hidden=[5]``. This is the model in which
    :func:`residual_length_moments` is exact.

    Raises
    ------
    ValueError
        For a width that is not an integer ``>= 1``, a scale that is not a finite number ``>= 0``, or no
        scales (depth 0).
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
    for j, layer in enumerate(module.layers):
        if not layer.is_gaussian_iid or layer.sigma_b2 != 0:
            raise ValueError(f"network module {index + 1}, layer {j + 1}: the exact residual moments need i.i.d. "
                             "Gaussian weights and zero biases (Hanin & Rolnick §3.2)")
    *hidden, readout = module.layers
    if readout.activation.name != "linear":
        raise ValueError(
            f"network module {index + 1} ends in {readout.activation.name!r}: with a relu read-out the cross term "
            "2 eta E<x, N(x)> is not odd in the last weights and depends on sum_i x_i |x|, so no closed recursion "
            "in the moments exists; exact moments need a linear read-out (linear_readout_residual), simulate "
            "the relu read-out with sigdist.montecarlo.simulate")
    eg, eg2 = 1.0, 1.0
    for j, layer in enumerate(hidden):
        if layer.activation.name != "relu":
            raise ValueError(f"network module {index + 1}, hidden layer {j + 1} must be relu, "
                             f"got {layer.activation.name!r}")
        n, w = layer.width, layer.sigma_w2
        eg *= w * n / 2
        eg2 *= w * w * n * (n + 5) / 4
    return eg, eg2, readout.sigma_w2


def residual_length_moments(network, y0=None, *, x0=None) -> ResidualLengthMoments:
    r"""Exact :math:`E[M^{res}_\ell]`, :math:`E[(M^{res}_\ell)^2]` of a residual ReLU net with linear read-outs.

    :math:`x_\ell = x_{\ell-1} + \eta_\ell \mathcal N_\ell(x_{\ell-1})` (eq. 1), each module
    :math:`\mathcal N_\ell(x) = W_o h_k`, :math:`h_k` the relu hidden layers of ``x``, Gaussian weights, zero
    biases; :math:`M^{res}_\ell = |x_\ell|^2 / n` (the paper's :math:`\|\mathcal N^{res}_\ell(x)\|^2` for
    :math:`|x| = 1` is ``n`` times this).

    Parameters
    ----------
    network : ResidualNetwork
        Modules ``n -> ... -> n`` whose last layer is ``"linear"`` (:func:`linear_readout_residual`) and
        their scales :math:`\eta_\ell \ge 0`.
    y0 : float, optional
        The squared input norm :math:`|x_0|^2`; default :math:`M_0 = 1` (:math:`|x_0|^2 = n`).
    x0 : array_like, optional
        The input vector instead (only its norm matters: the weights are Gaussian).

    Returns
    -------
    ResidualLengthMoments

    Raises
    ------
    ValueError
        For a network that is not a ResidualNetwork, non-Gaussian or biased layers, a relu read-out (no
        closed recursion: the message says why), or a bad input.

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
    >>> from sigdist.residual_lengths import linear_readout_residual, residual_length_moments
    >>> r = residual_length_moments(linear_readout_residual(5, [5], [0.5, 0.5]))
    >>> round(float(r.length_mean[-1]), 12)   # (1 + 2 * 0.25)^2
    2.25
    """
    net = as_network(network, residual=True)
    if not isinstance(net, ResidualNetwork):
        raise ValueError("network must be a sigdist.ResidualNetwork (modules and their scales eta_l; "
                         "linear_readout_residual builds one), got a plain Network")
    etas = np.array(net.etas, dtype=np.float64)
    coeffs = [_module_coefficients(m, i) for i, m in enumerate(net.modules)]
    width = net.input_width
    y0, _, n0 = input_statistics(y0, x0, width, False)
    n = float(width)
    ly, lq, lv = math.log(y0) if y0 > 0 else -np.inf, 2 * math.log(y0) if y0 > 0 else -np.inf, -np.inf
    out = np.empty((3, len(etas)))
    gains = np.empty(len(etas))
    for i, ((eg, eg2, so2), eta) in enumerate(zip(coeffs, etas)):
        e2 = eta * eta
        a = 1 + e2 * n * so2 * eg
        c = 1 + (2 * n + 4) * e2 * so2 * eg + e2 * e2 * so2 * so2 * n * (n + 2) * eg2
        r = 4 * e2 * so2 * eg + e2 * e2 * so2 * so2 * (n * (n + 2) * eg2 - n * n * eg * eg)  # c - a^2
        # Var[Y'] = c E[Y^2] - a^2 (E Y)^2 = a^2 Var[Y] + r E[Y^2] with r = c - a^2
        lv = np.logaddexp(2 * math.log(a) + lv, (math.log(r) if r > 0 else -np.inf) + lq)
        ly, lq = ly + math.log(a), lq + math.log(c)
        out[:, i] = ly, lq, lv
        gains[i] = a
    log_mean, log_second, log_var = out[0] - math.log(n), out[1] - 2 * math.log(n), out[2] - 2 * math.log(n)
    return ResidualLengthMoments(
        length_mean=exp_checked(log_mean, "length_mean"),
        length_second_moment=exp_checked(log_second, "length_second_moment"),
        length_variance=exp_checked(log_var, "length_variance"), log_length_mean=log_mean,
        log_length_second_moment=log_second, log_length_variance=log_var, gains=gains, etas=etas,
        input_mean=y0 / n0)
