r"""One unit seeing two inputs, any activation: the moments of :math:`(\phi(h_1), \phi(h_2))` by quadrature.

Given the previous layer, one unit's pre-activations for two inputs are
:math:`(h_1, h_2) \sim N(0, V)` with :math:`v_{ij} = \sigma_w^2 \langle x_i, x_j\rangle + \sigma_b^2`
(Burkholz & Dubatovka eq. 4; :func:`layer_covariance`). Everything the two-input side needs
from one unit is a mixed moment :math:`E[\phi(h_1)^p \phi(h_2)^q]` (:func:`activation_moments`),
in particular the means and covariance of the per-unit triple
:math:`(a, b, c) = (\phi(h_1)^2, \phi(h_2)^2, \phi(h_1)\phi(h_2))` (:func:`unit_moments`) whose unit
averages are the next layer's pair state.

The rule. Write :math:`h_1 = s_1 g_1`, :math:`h_2 = s_2(\rho g_1 + r g_2)`, :math:`r = \sqrt{1-\rho^2}`,
with independent standard normals. The outer integral over :math:`g_1` and, for each outer node,
the inner one over :math:`g_2` are Gauss-Legendre on ``[-12, 12]`` (the mass beyond is
``4e-33``), cut into panels graded geometrically towards the point where the pre-activation
vanishes (``g_1 = 0``; ``g_2 = -\rho g_1 / r``): kinks at 0 (relu, leaky_relu, abs) fall on a panel
edge, and steep activations at large variance (``tanh(sqrt(s) g)`` turns over a width
``1/sqrt(s)``) are resolved: the smallest panel is ``12 * 2^-5`` or, for standard deviations
above 1, that divided by the standard deviation or by :math:`|\rho|/r` when that is larger (after
the inner integral a kink at 0 is smoothed over a width :math:`r/|\rho|` in :math:`g_1`); about 5e4
nodes at ``v = 1``, ``rho = 0.5``. Each panel has
12 nodes. For analytic ``phi`` the error is at roundoff: ``E tanh(h)^2``, ``E tanh(h)^4`` within
1.1e-16 of mpmath at ``v = 1`` and ``1e4`` (a rule graded 14 or 60 levels deep only adds
roundoff, 2e-15 and 1e-14); 1e-12 or better against adaptive quadrature and Gauss-Hermite in the
tests; relu's closed forms (:mod:`sigdist.relu_pair`) are met to 1e-13. A callable with kinks or steep turns
away from 0 converges algebraically, not to roundoff.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import check_finite, check_input_norm
from .activations import get_activation
from .network import check_layer

__all__ = ["check_covariance", "check_pair_inputs", "layer_covariance", "activation_moments", "unit_moments"]

_RHO_SLACK = 1e-12  # |rho| may exceed 1 by rounding; beyond this it is an error
_G_MAX = 12.0
_PANEL_NODES, _PANEL_WEIGHTS = np.polynomial.legendre.leggauss(12)
_LEVELS = 5  # panel edges on one side of where the pre-activation vanishes: 0, 12 * 2^-5, ..., 6, 12


def _offsets(scale):
    """Graded panel edges ``0, 12 * 2^-K, ..., 6, 12``; ``K`` grows with the pre-activations' scale so that the
    smallest panel stays below ``0.375 / scale`` (where ``phi(scale * g)`` may turn over)."""
    k = _LEVELS if scale <= 1.0 else min(_LEVELS + max(0, math.ceil(math.log2(scale))), 80)
    return np.concatenate([[0.0], _G_MAX * 2.0 ** -np.arange(k, -1, -1.0)])
# and the Gaussian's own panels, wherever the graded ones sit (a kink far out leaves the bulk uncut)
_BULK = np.array([-8.0, -5.0, -3.0, -1.5, 0.0, 1.5, 3.0, 5.0, 8.0])


def check_covariance(v11, v22, v12, *, allow_zero=False):
    """Validate a 2x2 covariance ``V`` (finite, ``v11, v22 > 0``, ``|v12| <= sqrt(v11 v22)``); return the floats.

    ``v12`` is clipped to ``[-sqrt(v11 v22), sqrt(v11 v22)]`` where rounding put it just outside.
    With ``allow_zero``, zero variances are valid (a pre-activation that is 0 surely).
    """
    v11, v22, v12 = (check_finite(v, name) for name, v in (("v11", v11), ("v22", v22), ("v12", v12)))
    if v11 < 0 or v22 < 0 or (not allow_zero and (v11 == 0 or v22 == 0)):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"v11 and v22 must be {bound} (variances), got v11={v11!r}, v22={v22!r}")
    scale = math.sqrt(v11) * math.sqrt(v22)  # not sqrt(v11 v22): that over/underflows first
    if abs(v12) > scale * (1 + _RHO_SLACK):
        raise ValueError(f"V must be positive semi-definite: |v12| <= sqrt(v11 v22) = {scale:.6g}, got v12={v12!r}")
    return v11, v22, max(-scale, min(scale, v12))


def check_pair_inputs(y1, y2, y12):
    """Validate two inputs' ``(|x1|^2, |x2|^2, <x1, x2>)``: finite, norms ``>= 0``, Cauchy-Schwarz."""
    y1, y2 = check_input_norm(y1, "y1"), check_input_norm(y2, "y2")
    c = check_finite(y12, "y12")
    if c * c > y1 * y2 * (1 + 1e-12) + 1e-300:
        raise ValueError(f"y12 must satisfy y12^2 <= y1 y2 (Cauchy-Schwarz), got y12={y12!r} with "
                         f"y1={y1!r}, y2={y2!r}")
    return y1, y2, c


def layer_covariance(layer, y1, y2, y12):
    r"""The covariance ``V`` of one unit's two pre-activations (eq. 4): :math:`v_{ij} = \sigma_w^2 y_{ij} + \sigma_b^2`.

    Parameters
    ----------
    layer : Layer
        A layer with i.i.d. Gaussian weights (the setting of Prop. 2 and Thm. 5); any activation.
    y1, y2, y12 : float
        The previous layer's ``|x1|^2``, ``|x2|^2`` and ``<x1, x2>``.

    Returns
    -------
    v11, v22, v12 : float
    """
    layer = check_layer(layer)
    y1, y2, y12 = check_pair_inputs(y1, y2, y12)
    if not layer.is_gaussian_iid:
        raise ValueError("layer must have i.i.d. Gaussian weights (no sharing, batch norm or skip): the two-input "
                         f"laws are derived there, got weight_law={layer.weight_law.name!r}, "
                         f"sharing={layer.sharing!r}, batch_norm={layer.batch_norm}")
    w, b = layer.sigma_w2, layer.sigma_b2
    return w * y1 + b, w * y2 + b, w * y12 + b


def _panels(centers, offsets):
    """Gauss-Legendre nodes and weights on ``[-12, 12]``, panels graded towards each of ``centers``.

    Returns arrays of shape ``(len(centers), k)``; panels cut away by the clipping to ``[-12, 12]``
    have zero width and weight.
    """
    c = np.asarray(centers, dtype=np.float64)[:, None]
    edges = np.sort(np.clip(np.concatenate([c - offsets, c + offsets, np.full((c.size, 1), -_G_MAX),
                                            np.full((c.size, 1), _G_MAX), np.broadcast_to(_BULK, (c.size, _BULK.size))],
                                           axis=1), -_G_MAX, _G_MAX), axis=1)
    a, b = edges[:, :-1, None], edges[:, 1:, None]
    nodes = (0.5 * (a + b) + 0.5 * (b - a) * _PANEL_NODES).reshape(c.size, -1)
    weights = (0.5 * (b - a) * _PANEL_WEIGHTS).reshape(c.size, -1)
    return nodes, weights * np.exp(-0.5 * nodes * nodes) / math.sqrt(2.0 * math.pi)


def _pair_rule(v11, v22, v12):
    """Nodes ``(h1, h2)`` and weights of the quadrature rule of :math:`N(0, V)` (module notes)."""
    s1, s2 = math.sqrt(v11), math.sqrt(v22)
    rho = v12 / (s1 * s2) if s1 > 0 and s2 > 0 else 0.0
    r2 = max(1.0 - rho * rho, 0.0)
    degenerate = r2 <= 1e-28 or s2 == 0  # h2 is a multiple of h1 (or 0): the inner integral is a point
    r = math.sqrt(r2)
    # after the inner integral the outer integrand turns over a width r / |rho| at g1 = 0 (a kink of phi at 0
    # smoothed by the inner Gaussian), and phi(s g) over 1 / s: the grading reaches below both
    offsets = _offsets(max(s1, s2, 0.0 if degenerate else abs(rho) / r))
    g1, w1 = _panels([0.0], offsets)
    keep = w1[0] > 0
    g1, w1 = g1[0][keep], w1[0][keep]
    if degenerate:
        return s1 * g1, s2 * rho * g1, w1
    g2, w2 = _panels(np.clip(-rho * g1 / r, -_G_MAX, _G_MAX), offsets)
    w = (w1[:, None] * w2).ravel()
    keep = w > 0  # panels clipped away at +-12 have zero width: no evaluations of phi there
    h1 = np.broadcast_to(s1 * g1[:, None], g2.shape).ravel()[keep]
    h2 = (s2 * (rho * g1[:, None] + r * g2)).ravel()[keep]
    return h1, h2, w[keep]


def activation_moments(activation, orders, v11, v22, v12):
    r""":math:`E[\phi(h_1)^p\, \phi(h_2)^q]` for each ``(p, q)`` in ``orders``, :math:`(h_1, h_2) \sim N(0, V)`.

    Parameters
    ----------
    activation : str, Activation or callable
        ``phi`` (anything :class:`~sigdist.Layer` takes).
    orders : sequence of (int, int)
        Powers ``(p, q)``, each ``>= 0``.
    v11, v22, v12 : float
        ``V`` (``v11, v22 >= 0``, ``|v12| <= sqrt(v11 v22)``).

    Returns
    -------
    ndarray, shape (len(orders),)

    Raises
    ------
    ValueError
        For a bad ``V`` (by name), a bad order, or an activation that returns NaN or inf on the
        Gaussian's support (naming the activation).
    """
    act = get_activation(activation)
    v11, v22, v12 = check_covariance(v11, v22, v12, allow_zero=True)
    orders = [(int(p), int(q)) for p, q in orders]
    if any(p < 0 or q < 0 for p, q in orders):
        raise ValueError(f"orders must be pairs of integers >= 0, got {orders!r}")
    h1, h2, w = _pair_rule(v11, v22, v12)
    x1, x2 = act.checked(h1), act.checked(h2)
    with np.errstate(over="raise", invalid="raise"):
        try:
            # powers by repeated products (numpy's float ** is a slow pow beyond squares), one dot product each
            p1, p2 = [np.ones_like(x1)], [np.ones_like(x2)]
            for _ in range(max(p for p, _ in orders) if orders else 0):
                p1.append(p1[-1] * x1)
            for _ in range(max(q for _, q in orders) if orders else 0):
                p2.append(p2[-1] * x2)
            weighted = {p: w * p1[p] for p in {p for p, _ in orders}}
            out = np.array([np.dot(weighted[p], p2[q]) for p, q in orders])
        except FloatingPointError:
            raise ValueError(f"activation {act.name!r}: the moments of phi(h) overflow under N(0, V) with "
                             f"v11={v11:.6g}, v22={v22:.6g}") from None
    if not np.all(np.isfinite(out)):
        raise ValueError(f"activation {act.name!r}: the moments of phi(h) are not finite under N(0, V) with "
                         f"v11={v11:.6g}, v22={v22:.6g}")
    return out


def unit_moments(activation, v11, v22, v12):
    r"""Means and covariance of one unit's :math:`(a, b, c) = (\phi(h_1)^2, \phi(h_2)^2, \phi(h_1)\phi(h_2))`.

    By the quadrature of :func:`activation_moments`, in one pass over the rule: the means are
    :math:`E\phi_1^2, E\phi_2^2, E\phi_1\phi_2`, the second moments :math:`E\phi_1^4`,
    :math:`E\phi_2^4`, :math:`E\phi_1^2\phi_2^2` (also :math:`E c^2`), :math:`E\phi_1^3\phi_2`,
    :math:`E\phi_1\phi_2^3`. For relu, :mod:`sigdist.relu_pair` has them in closed form.

    Returns
    -------
    mean : ndarray, shape (3,)
    cov : ndarray, shape (3, 3)
    """
    m = activation_moments(activation, [(2, 0), (0, 2), (1, 1), (4, 0), (0, 4), (2, 2), (3, 1), (1, 3)],
                           v11, v22, v12)
    mean = m[:3]
    second = np.array([[m[3], m[5], m[6]],
                       [m[5], m[4], m[7]],
                       [m[6], m[7], m[5]]])
    return mean, second - np.outer(mean, mean)
