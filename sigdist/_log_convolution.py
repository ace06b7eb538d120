r"""Far left tails of product-form laws by positive convolution in log space.

For :math:`z_L = y_0 \prod_l \sigma_{w,l}^2 S_l` (zero bias, chi-square layers; see
:mod:`sigdist._mellin`) the continuous part of :math:`U = \log z_L` is a sum of independent
:math:`V_l = \log S_l`, each with the density, exact in closed form,

.. math::
    q_l(v) = \sum_j w_{l,j}\, \frac{e^{k_{l,j}(v - \log c_{l,j})/2 - e^{v - \log c_{l,j}}/2}}
             {2^{k_{l,j}/2}\,\Gamma(k_{l,j}/2)} .

The Mellin–Barnes inversion cannot reach a left tail carried by the bulk terms once their saddle
point would lie left of the pole :math:`s = -k_{\min}/2` of a term of tiny weight (a wide relu
layer: :math:`k = 1` has weight :math:`N 2^{-N}`): the contour is pinned against that pole. Here
the density of :math:`U` is built instead by direct (not FFT) convolution of log-densities on a
uniform grid of step :math:`h`, every sum of positive terms taken in log space, and the tail is

.. math::
    P(0 < z_L \le t) = h \sum_i p_{L-1}(u_i)\, F_L(\log t - \log A - u_i),

with :math:`F_L` the last layer's exact CDF (regularised incomplete gamma functions). Every
step sums positive terms, so the result keeps *relative* accuracy however small it is; the
trapezoid rule converges geometrically in :math:`h` (analytic integrands), and the run at
:math:`2h` gives the error estimate. Sums of identical layers are formed by repeated squaring;
each partial density is kept only where it is above :math:`e^{-800}` and where the remaining
layers can still bring it to the asked point (Chernoff bounds from the exact cumulant function).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special

from ._numba import njit

_LOG2 = math.log(2.0)
_FLOOR = -800.0  # log-densities below this cannot move a probability >= 1e-300 by 1e-12 relative


@njit(nogil=True)
def _log_convolve(a, b, lo, hi):
    """``c[i] = log sum_j exp(a[j] + b[i - j])`` for output indices ``lo <= i < hi`` (0: a[0] + b[0])."""
    out = np.full(hi - lo, -np.inf)
    na, nb = a.size, b.size
    for i in range(lo, hi):
        j0, j1 = max(0, i - nb + 1), min(na, i + 1)
        top = -np.inf
        for j in range(j0, j1):
            top = max(top, a[j] + b[i - j])
        if top == -np.inf:
            continue
        total = 0.0
        for j in range(j0, j1):
            total += math.exp(a[j] + b[i - j] - top)
        out[i - lo] = top + math.log(total)
    return out


def _log_lower_gamma(a, log_y):
    """``log P(a, e^log_y)`` (regularised lower incomplete gamma), relative accuracy where it underflows."""
    a, log_y = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(log_y, dtype=np.float64))
    y = np.exp(np.minimum(log_y, 700.0))
    with np.errstate(divide="ignore"):
        out = np.log(special.gammainc(a, y))
    small = out < -650.0
    if np.any(small):  # the series y^a e^-y / Gamma(a+1) sum_n y^n / ((a+1)...(a+n)), its terms positive
        aa, yy, log_yy = a[small], y[small], log_y[small]
        term, total = np.ones_like(aa), np.ones_like(aa)
        for n in range(1, 400):
            term = term * yy / (aa + n)
            total += term
            if np.all(term < 1e-17 * total):
                break
        out[small] = aa * log_yy - yy - special.gammaln(aa + 1.0) + np.log(total)
    return out


class _Factor:
    """One layer's ``V = log(sigma_w2 S)``: exact log-density, log-CDF and cumulant function."""

    def __init__(self, chi2, log_sigma_w2):
        self.mix, self.log_sigma_w2 = chi2.mix, log_sigma_w2
        self.half, self.ls = chi2.half, chi2.ls + log_sigma_w2
        self.log_w = chi2.mix.log_weights
        self.strip = chi2.strip
        self.sd = math.sqrt(float(special.polygamma(1, chi2.half.max())))  # narrowest term's width in v

    def logpdf(self, v):
        return self.mix.log_log_density(v - self.log_sigma_w2)

    def logcdf(self, v):
        w = v[:, None] - self.ls
        return special.logsumexp(self.log_w + _log_lower_gamma(self.half, w - _LOG2), axis=1)

    def cgf(self, theta):
        """``log E[e^{theta V}; S > 0]`` for real ``theta > strip``."""
        return float(special.logsumexp(self.log_w + theta * (self.ls + _LOG2)
                                       + special.gammaln(self.half + theta) - special.gammaln(self.half)))


def _reach(parts, upper):
    """Where the density of ``sum count * V`` drops below ``e^{_FLOOR}`` (Chernoff): right end if
    ``upper``, left end otherwise; ``parts`` is a list of (_Factor, count)."""
    if not parts:
        return 0.0
    strip = max(f.strip for f, _ in parts)
    k = lambda t: sum(c * f.cgf(t) for f, c in parts)  # noqa: E731
    if upper:
        res = optimize.minimize_scalar(lambda t: (k(t) - _FLOOR) / t, bounds=(1e-4, 400.0), method="bounded")
        return float(res.fun)
    res = optimize.minimize_scalar(lambda t: -(k(t) - _FLOOR) / t, bounds=(strip * (1 - 1e-9), -1e-4),
                                   method="bounded")
    return float(-res.fun)


class LogConvolutionTails:
    """``P(0 < z <= t)`` of ``z = y0 * prod sigma_w2 S`` (zero bias, chi-square layers) by positive
    convolution in log space (module docstring); used where the Mellin–Barnes contour is pinned.

    Parameters
    ----------
    factors : list of (_Chi2Factor, int, float)
        Each distinct layer's chi-square factor, how often it occurs, and ``log sigma_w2``
        (:class:`sigdist._mellin.ProductTails.factors`).
    log_y0 : float
    """

    def __init__(self, factors, log_y0):
        self.parts = [(_Factor(f, lw), count) for f, count, lw in factors]
        self.log_y0 = log_y0
        self.h = min(0.25, min(f.sd for f, _ in self.parts) / 1.5)
        self._built = {}  # step -> (lowest x covered, start index, log p of all layers but the last)

    def cdf(self, t):
        """``(value, relative error estimate)`` arrays for ``t > 0``."""
        x = np.log(np.atleast_1d(np.asarray(t, dtype=np.float64))) - self.log_y0
        # mass left of a truncation is folded into its first node, where the trapezoid weights it with
        # an O(h^2) end error: a first pass finds the size of the answer, the second folds only mass
        # below e^-37 of it
        rough = self._cdf(x, self.h, math.inf)
        log_floor = float(np.min(rough)) - 40.0
        fine, coarse = self._cdf(x, self.h, log_floor), self._cdf(x, 2.0 * self.h, log_floor)
        with np.errstate(invalid="ignore"):
            delta = np.abs(np.expm1(coarse - fine))
        # geometric convergence: halving h squares the relative error
        return np.exp(fine), np.maximum(delta * delta, 1e-14)

    def _cdf(self, x, h, log_floor):
        last = self.parts[-1][0]
        rest = self.parts[:-1] + ([(last, self.parts[-1][1] - 1)] if self.parts[-1][1] > 1 else [])
        if not rest:
            return last.logcdf(x)
        start, logp = self._partial(rest, last, float(x.min()), h, log_floor)
        u = (start + np.arange(logp.size)) * h
        return special.logsumexp(logp[None, :] + last.logcdf((x[:, None] - u[None, :]).ravel())
                                 .reshape(x.size, u.size), axis=1)  # logp holds the weight h

    def _partial(self, rest, last, x_lo, h, log_floor):
        built = self._built.get(h)
        if built is not None and built[0] <= x_lo and (built[1] <= log_floor or math.isinf(log_floor)):
            return built[2], built[3]
        x_lo = x_lo - 5.0  # room for nearby points without a rebuild
        total = None  # (start index, log p) of the sum formed so far
        done = []
        for f, count in rest:
            power, remaining = None, count
            square = self._grid(f, rest, last, x_lo, h, log_floor)
            while remaining:
                if remaining & 1:
                    power = square if power is None else self._conv(power, square, h)
                remaining >>= 1
                if remaining:
                    square = self._conv(square, square, h)
            done.append(f)
            total = power if total is None else self._conv(total, power, h)
            remaining = [p for p in rest if all(p[0] is not d for d in done)] + [(last, 1)]
            total = self._trim(total, x_lo - _reach(remaining, upper=True), h, log_floor)
        self._built[h] = (x_lo, log_floor, total[0], total[1])
        return total[0], total[1]

    @staticmethod
    def _grid(f, rest, last, x_lo, h, log_floor):
        # a single V where it can matter: left of its e^{_FLOOR} right reach, and its mass left of
        # where everything else at its right end can no longer lift the sum to x_lo (and below
        # e^{log_floor}) folded into the first node (see _trim)
        others = [(g, c - (1 if g is f else 0)) for g, c in rest] + [(last, 1)]
        own_lo = _reach([(f, 1)], upper=False)
        lo = max(own_lo, x_lo - _reach([p for p in others if p[1] > 0], upper=True))
        if f.logcdf(np.array([lo]))[0] > log_floor:
            a, b = own_lo, lo  # logcdf(a) tiny, logcdf(b) above the floor
            for _ in range(60):
                mid = 0.5 * (a + b)
                a, b = (mid, b) if f.logcdf(np.array([mid]))[0] <= log_floor else (a, mid)
            lo = a
        hi = _reach([(f, 1)], upper=True)
        i0, i1 = math.floor(lo / h), math.ceil(hi / h) + 1
        logp = f.logpdf(np.arange(i0, i1) * h) + math.log(h)  # h: the trapezoid weight
        logp[0] = np.logaddexp(logp[0], f.logcdf(np.array([i0 * h - 0.5 * h]))[0])
        return i0, logp

    @staticmethod
    def _conv(a, b, h):
        n = a[1].size + b[1].size - 1
        return LogConvolutionTails._trim((a[0] + b[0], _log_convolve(a[1], b[1], 0, n)), -math.inf, h, -math.inf)

    @staticmethod
    def _trim(p, lo, h, log_floor):
        """Drop the ends below ``e^{_FLOOR}`` and, as long as its mass stays below ``e^{log_floor}``, what
        lies left of ``lo``; the mass dropped on the left is added to the first node kept. That moves it
        right, but only to where the layers still to come, whose right reach is at most ``x_lo - lo``,
        count it whole at every ``x >= x_lo`` (to e^{_FLOOR})."""
        start, logp = p
        keep = np.flatnonzero(logp > _FLOOR)
        if not keep.size:
            return start, logp[:1]
        i0 = int(keep[0])
        if math.isfinite(lo):
            cut = math.floor(lo / h) - start
            if log_floor < math.inf:  # no further than where the mass to the left reaches e^{log_floor}
                above = np.flatnonzero(np.logaddexp.accumulate(logp) > log_floor)
                cut = min(cut, int(above[0]) if above.size else cut)
            i0 = max(i0, cut)
        i0 = min(i0, int(keep[-1]))
        out = np.array(logp[i0:int(keep[-1]) + 1])
        if i0 > 0:
            out[0] = np.logaddexp(out[0], special.logsumexp(logp[:i0]))
        return start + i0, out
