r"""The law of one layer's output as an average of the kernel over the previous law: exact tails.

:class:`OneStep` gives :math:`P(0 < z_l \le t)` and :math:`P(z_l > t)` with relative accuracy down to
1e-300 (Burkholz & Dubatovka 2019, eq. 7 averaged over the nodes of the law of :math:`z_{l-1}`); the
laws of :mod:`sigdist.laws` read their far tails from it.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import special

from ._warnings import SigdistWarning
from .kernel import Chi2Mixture

__all__ = ["OneStep"]

_LOG2 = math.log(2.0)


class OneStep:
    r"""The continuous part of :math:`z_l` as an average of the kernel over the previous law's nodes.

    :math:`P(0 < z_l \le t) = \sum_i w_i\, P(0 < S \le t / s_i)` and
    :math:`P(z_l > t) = \sum_i w_i\, P(S > t / s_i)` with :math:`s_i = \sigma_w^2 y_i + \sigma_b^2`
    over the nodes of the law of :math:`z_{l-1}` (one node for a point input: then it is the
    closed form of eq. 7). Every term is a regularised incomplete gamma function, so the sums
    keep relative accuracy however small they are. With :math:`\sigma_b > 0` every
    :math:`s_i \ge \sigma_b^2`, so the far left tail is carried by the bulk of the previous
    law, which its grid holds: that tail is exact to the previous law's quadrature.

    The far right tail is not: it lives in the previous law's far right tail, past what its grid
    resolves. When the previous law is itself a one-layer law from a point (``source``, its own
    :class:`OneStep` with ``point=True``), :math:`y = s_0 S_1` with an exact law, and

    .. math:: P(z_l > t) = P(S_1 = 0)\, P(S > t / \sigma_b^2)
              + \int P\big(S > t / (\sigma_w^2 s_0 e^x + \sigma_b^2)\big)\, p_{\log S_1}(x)\, dx,

    integrated by Gauss-Legendre panels sized to the integrand's curvature (:func:`_panels`),
    with both factors closed forms: relative accuracy however far ``t`` is.
    """

    def __init__(self, layer, log_s, w, point, source=None):
        keep = (w > 0) & np.isfinite(log_s)  # s = 0 (sigma_b = 0, y = 0) feeds the atom, not the continuous part
        self.mixture = Chi2Mixture(layer, cutoff=745.0)
        self.log_s, self.w = log_s[keep], w[keep]
        self.point = point
        self.floor = layer.sigma_b2 > 0
        self._source = None
        if not point and self.floor and source is not None and source.point and source.log_s.size == 1:
            self._source = _PointSource(layer, self.mixture, source.mixture, float(source.log_s[0]))

    def tail(self, t, upper):
        t = np.asarray(t, dtype=np.float64)
        if upper and self._source is not None:
            return self._source.sf(t)
        out = np.empty(t.shape)
        f = self.mixture.sf if upper else self.mixture.cdf_positive
        flat = t.ravel()
        step = max(1, 400_000 // max(1, self.log_s.size * self.mixture.k.size))
        with np.errstate(divide="ignore"):
            log_t = np.log(flat)
        for i in range(0, flat.size, step):
            log_ratio = log_t[i:i + step, None] - self.log_s[None, :]
            with np.errstate(over="ignore", under="ignore"):
                terms = f(np.exp(log_ratio))
            value = terms @ self.w
            if upper and not self.point:
                # the trapezoid rule over the previous grid resolves a far right tail only while the
                # integrand is smooth at the grid's spacing: half the nodes tell how well it does
                half = terms[:, 1::2] @ (2.0 * self.w[1::2]) + terms[:, 0] * self.w[0]
                with np.errstate(invalid="ignore", divide="ignore"):
                    rel = np.abs(half - value) / value
                worst = float(np.nanmax(rel)) if np.any(value > 0) else 0.0
                if worst > 1e-8:
                    warnings.warn(f"right tail P(z > t) of a biased layer read from the previous law's grid: "
                                  f"relative accuracy about {worst:.2g} at t = {float(flat[i + int(np.nanargmax(rel))]):.4g}",
                                  SigdistWarning, stacklevel=6)
            if not upper:
                # t / s below the float64 range: P(k/2, x) = x^{k/2} e^{-x} / Gamma(k/2 + 1) (1 + O(x)), in logs
                tiny = np.nonzero(np.any(log_ratio < -650.0, axis=1))[0]
                for r in tiny:
                    mix = self.mixture
                    half = 0.5 * mix.k
                    terms = (mix.log_weights[None, :]
                             + half[None, :] * (log_ratio[r][:, None] - mix.log_scale[None, :] - _LOG2)
                             - special.gammaln(half + 1.0)[None, :])
                    with np.errstate(divide="ignore"):
                        logs = special.logsumexp(terms, axis=1) + np.log(self.w)
                    value[r] = math.exp(min(special.logsumexp(logs), 700.0))
            out.flat[i:i + step] = value
        return out


# Gauss-Legendre on [-1, 1]: the panels of the one-step integral
_GL_X, _GL_W = np.polynomial.legendre.leggauss(12)


class _PointSource:
    r""":math:`P(z > t)` for :math:`z = s(y) S`, :math:`y = s_0 S_1`: an atom term plus an integral over
    :math:`x = \log S_1` of two closed forms, :math:`G_t(x) = P(S > t / s(x))` and :math:`p_{\log S_1}(x)`."""

    def __init__(self, layer, mixture, source, log_s0):
        self.mix, self.src = mixture, source
        self.b2 = layer.sigma_b2
        self.log_a = math.log(layer.sigma_w2) + log_s0  # s(x) = e^(log_a + x) + sigma_b^2
        self._range = None

    def sf(self, t):
        if self._range is None:  # found once, at the first far tail asked
            # below x_lo P(0 < S_1 <= e^x) <= 1e-17 and G_t rises with x: that part is below 1e-17 / P(S_1 > 0)
            # of the integral; above x_hi P(S_1 > e^x) is about 1e-600; above v_cap P(S > v) is below 1e-320,
            # so G_t is 0 in float64 there and needs no resolving
            self._range = (self.src.log_range(1e-17)[0], self.src.log_range(1e-300)[1] + _LOG2,
                           4.0 * math.exp(self.mix.log_range(1e-300)[1]))
        out = np.empty(t.shape)
        for i, ti in enumerate(t.flat):
            out.flat[i] = self._one(float(ti))
        return out

    def _one(self, t):
        if not t > 0:  # P(z > 0) = P(S > 0) whatever y is
            return float(self.mix.sf(0.0))
        x_lo, x_hi, v_cap = self._range
        atom = self.src.atom * float(self.mix.sf(t / self.b2))
        # where t / s(x) > v_cap, G_t(x) underflows: start past it
        gap = t / v_cap - self.b2
        start = max(x_lo, math.log(gap) - self.log_a) if gap > 0 else x_lo
        if start >= x_hi:
            return atom
        edges, x, w = _panels(start, x_hi, t, self.log_a, self.b2, v_cap)
        with np.errstate(under="ignore", over="ignore"):
            p = (w * self.src.log_density(x)).reshape(edges.size - 1, -1)
            # G_t rises with x: on each panel it lies between its values at the panel's ends, which bound
            # every panel's part; panels below 1e-18 of the lower bound of the whole need no G_t inside
            g_ends = self.mix.sf(t / self._s(edges))
            mass = p.sum(axis=1)
            lower = float(mass @ g_ends[:-1])
            live = mass * g_ends[1:] > 1e-18 * lower
            xs = x.reshape(p.shape)[live].ravel()
            return atom + float(p[live].ravel() @ self.mix.sf(t / self._s(xs)))

    def _s(self, x):
        return np.exp(np.logaddexp(self.log_a + x, math.log(self.b2)))


def _panels(start, stop, t, log_a, b2, v_cap):
    r"""Panel edges, nodes and weights on ``[start, stop]``: panels no wider than ``2 / sqrt(c)``, with ``c`` a bound on
    the curvature of :math:`\log G_t + \log p_{\log S_1}` (:math:`\tfrac12 (e^x + t / s(x)) + 1`, its
    two terms from :math:`e^{-e^x/2}` and :math:`e^{-t/(2 s)}`), each with 12-point Gauss-Legendre: a
    Gaussian peak of width :math:`1/\sqrt{c}` spans several panels, each integrated to roundoff (checked
    against adaptive quadrature on 3000 pieces: 1e-13 relative down to 1e-250)."""
    edges = [start]
    x = start
    top = math.exp(min(stop, 700.0))
    while x < stop:
        ex = math.exp(min(x, 700.0))
        c = 0.5 * (min(ex, top) + min(t / (ex * math.exp(log_a) + b2), v_cap)) + 1.0
        x = min(stop, x + min(1.0, 2.0 / math.sqrt(c)))
        edges.append(x)
    edges = np.array(edges)
    mid, half = 0.5 * (edges[1:] + edges[:-1]), 0.5 * np.diff(edges)
    nodes = (mid[:, None] + half[:, None] * _GL_X[None, :]).ravel()
    weights = (half[:, None] * _GL_W[None, :]).ravel()
    return edges, nodes, weights
