r"""Far tails of product-form laws by Mellin–Barnes inversion through the saddle point.

With :math:`\sigma_b = 0` and chi-square activations (relu, leaky relu, linear, abs) the continuous
part of :math:`z_L` is a product, :math:`z_L = y_0 \prod_l \sigma_{w,l}^2 S_l`, whose Mellin
transform is known in closed form:

.. math::
    M(s) = E[z_L^s;\ z_L > 0] = y_0^s \prod_l \sigma_{w,l}^{2s} \sum_{j} w_{l,j} c_{l,j}^s
           \frac{2^s\,\Gamma(k_{l,j}/2 + s)}{\Gamma(k_{l,j}/2)},

(scales :math:`c_{l,j} = 1` but for leaky relu, :mod:`sigdist.leaky`),

analytic in the strip :math:`\operatorname{Re} s > -k_{\min}/2`. With :math:`U = \log z_L`
and :math:`K(\theta) = \log M(\theta)`, for :math:`\theta < 0` (left tail) and
:math:`\theta > 0` (right tail)

.. math::
    P(0 < z_L \le t) = \frac{1}{\pi}\int_0^\infty
        \operatorname{Re}\frac{M(\theta + i\omega)\, t^{-\theta - i\omega}}{-(\theta + i\omega)}\,d\omega,
    \qquad
    P(z_L > t) = \frac{1}{\pi}\int_0^\infty
        \operatorname{Re}\frac{M(\theta + i\omega)\, t^{-\theta - i\omega}}{\theta + i\omega}\,d\omega.

On the line through the saddle point of :math:`K(\theta) - \theta \log t` the integrand is
concentrated and does not oscillate away its size, so the trapezoid rule returns the tail
probability with *relative* accuracy however small it is (1e-300 included). Its step
``d omega`` periodises the tilted law with period :math:`2\pi / d\omega`; the period is chosen so
that the images are below ``1e-14`` of the value. Checked against an independent mpmath
Mellin–Barnes evaluation in ``validation/reference_tails.py``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import optimize, special

from ._log_convolution import LogConvolutionTails
from ._numba import njit
from ._warnings import SigdistWarning
from .kernel import Chi2Mixture

_LOG2 = math.log(2.0)


class _InBulk(FloatingPointError):
    """A tail asked at a point in the bulk, where the saddle point is too close for the inversion."""


class _Pinned(FloatingPointError):
    """A far left tail whose saddle point lies against the strip's pole (within 1e-3): there the
    integrand on the line is a narrow spike over a slowly decaying background of the other terms and
    the trapezoid rule loses relative accuracy (2.7e-6 at 1.8e-7 from the pole: N = 50, two layers);
    when the pole's term has tiny weight (a rare small ``k``) float64 cannot even place the saddle."""


class _Chi2Factor:
    """``sum_j w_j c_j^s 2^s Gamma(k_j/2 + s) / Gamma(k_j/2)`` for one layer's chi-square mixture
    :math:`S = \\sum_j w_j c_j \\chi^2_{k_j}` (:class:`~sigdist.kernel.Chi2Mixture`; all weights down to
    ``exp(-745)`` of the largest: far tails are carried by the rare small ``k`` or small scales ``c``)."""

    def __init__(self, layer):
        mix = Chi2Mixture(layer, cutoff=745.0)
        self.mix = mix  # its closed-form density of log S serves the log-space convolution
        self.log_alive = math.log1p(-mix.atom)  # log P(S > 0): the continuous part's share
        self.half = 0.5 * mix.k.astype(np.float64)
        self.logw = mix.log_weights - special.gammaln(self.half)
        self.ls = mix.log_scale
        self.strip = -float(self.half.min())  # M(s) is analytic for Re s > strip

    def pruned(self, theta, cutoff=46.0):
        """The same factor without the terms below ``exp(-cutoff)`` of the largest at real ``theta``:
        on the line ``Re s = theta`` each term's modulus is at most its value at ``theta``."""
        terms = self.logw + theta * (_LOG2 + self.ls) + special.gammaln(self.half + theta)
        keep = terms >= terms.max() - cutoff - math.log(terms.size)
        out = object.__new__(_Chi2Factor)
        out.half, out.logw, out.ls = self.half[keep], self.logw[keep], self.ls[keep]
        out.strip, out.log_alive = self.strip, self.log_alive
        return out

    def log(self, s):
        """``log M_l(s)`` for a complex array ``s`` (the principal branch is irrelevant: only exp is used).

        On a line ``Re s = theta`` (how the inversion asks) the chi-square ladder is walked by
        ``Gamma(h + 1 + s) = (h + s) Gamma(h + s)``: one ``loggamma`` per parity of ``k`` and node
        instead of one per term (``_ladder_log``); elsewhere every term is summed directly."""
        s = np.asarray(s, dtype=np.complex128)
        if s.size and not np.any(s.real != s.flat[0].real) and s.flat[0].real + self.half.min() > 0:
            return self._log_on_line(s)
        out = np.empty(s.shape, dtype=np.complex128)
        flat, res = s.ravel(), out.ravel()
        step = max(1, 2_000_000 // self.half.size)
        for i in range(0, flat.size, step):
            t = flat[i:i + step, None]
            terms = self.logw + t * (_LOG2 + self.ls) + special.loggamma(self.half + t)
            top = terms.real.max(axis=1, keepdims=True)
            res[i:i + step] = np.log(np.sum(np.exp(terms - top), axis=1)) + top[:, 0]
        return out

    def _log_on_line(self, s):
        theta = float(s.flat[0].real)
        omega = np.ascontiguousarray(s.imag.ravel())
        # each term's modulus on the line is at most its value at theta: normalise by that
        at_theta = self.logw + theta * (_LOG2 + self.ls) + special.gammaln(self.half + theta)
        top = float(at_theta.max())
        weight = np.exp(at_theta - top)
        if np.any(self.ls != 0.0):  # leaky relu: one k, scales c_j; Gamma(k/2 + s) is common to all terms
            lg = special.loggamma(self.half[0] + s.ravel()) - special.gammaln(self.half[0] + theta)
            phase = np.exp(1j * omega[:, None] * self.ls)
            total = np.log(phase @ weight) + lg
        else:
            order = np.argsort(self.half, kind="stable")
            half, weight = self.half[order], weight[order]
            parity = np.round(2.0 * half).astype(np.int64) % 2
            refs = [int(np.flatnonzero(parity == p)[np.argmax(weight[parity == p])]) for p in (0, 1)
                    if np.any(parity == p)]
            ref_half = half[refs]
            lg = (special.loggamma(ref_half[None, :] + s.ravel()[:, None])
                  - special.gammaln(ref_half + theta)[None, :])
            total = _ladder_log(omega, theta, half, weight, parity, np.array(refs, dtype=np.int64), lg)
        return (total + top + 1j * omega * _LOG2).reshape(s.shape)

    def real(self, theta):
        """``(K_l(theta), K_l'(theta), K_l''(theta))`` for real ``theta`` inside the strip."""
        terms = self.logw + theta * (_LOG2 + self.ls) + special.gammaln(self.half + theta)
        top = terms.max()
        p = np.exp(terms - top)
        total = p.sum()
        p /= total
        d1 = _LOG2 + self.ls + special.digamma(self.half + theta)
        mean = float(p @ d1)
        var = float(p @ (d1 * d1 + special.polygamma(1, self.half + theta))) - mean * mean
        return float(top + math.log(total)), mean, var


@njit(nogil=True)
def _ladder_log(omega, theta, half, weight, parity, refs, lg):
    """``log sum_j weight_j Gamma(half_j + s) / Gamma(half_j + theta)`` at ``s = theta + i omega``
    (``half`` sorted): from each parity's reference term (``lg``: its log ratio, from loggamma) the
    ratios are walked up by ``(h + s)/(h + theta)`` and down by its inverse; each walked value is a
    true ratio of modulus <= 1, scaled by the node's largest reference modulus so nothing under- or
    overflows."""
    n, m = omega.size, half.size
    out = np.empty(n, dtype=np.complex128)
    for i in range(n):
        s = complex(theta, omega[i])
        scale = lg[i, 0].real
        for g in range(refs.size):
            scale = max(scale, lg[i, g].real)
        total = 0j
        for g in range(refs.size):
            ref = refs[g]
            start = np.exp(lg[i, g] - scale)
            total += weight[ref] * start
            r, h = start, half[ref]
            for j in range(ref + 1, m):  # up the ladder
                if parity[j] != parity[ref]:
                    continue
                while h < half[j] - 0.5:
                    r *= (h + s) / (h + theta)
                    h += 1.0
                total += weight[j] * r
            r, h = start, half[ref]
            for j in range(ref - 1, -1, -1):  # down the ladder
                if parity[j] != parity[ref]:
                    continue
                while h > half[j] + 0.5:
                    h -= 1.0
                    r *= (h + theta) / (h + s)
                total += weight[j] * r
        out[i] = np.log(total) + scale
    return out


class ProductTails:
    """Tails of ``z = y0 * prod sigma_w2 S`` (zero bias, chi-square layers) with relative accuracy.

    Parameters
    ----------
    layers : list of (Layer, int)
        Distinct layers and how often each occurs.
    y0 : float
        The squared input norm (``> 0``).
    """

    def __init__(self, layers, y0):
        self.factors = [(_Chi2Factor(layer), count, math.log(layer.sigma_w2)) for layer, count in layers]
        self.log_y0 = math.log(y0)
        self.strip = max(f.strip for f, _, _ in self.factors)

    @property
    def atom(self):
        """``P(z = 0) = 1 - prod_l P(K_l >= 1)``, in log1p form: exact even when it is 1e-300."""
        return -math.expm1(sum(count * f.log_alive for f, count, _ in self.factors))

    def pruned(self, theta):
        """The same law with each factor's negligible terms at real ``theta`` dropped (see ``_Chi2Factor.pruned``)."""
        out = object.__new__(ProductTails)
        out.factors = [(f.pruned(theta), count, lw) for f, count, lw in self.factors]
        out.log_y0, out.strip, out._log_convolution = self.log_y0, self.strip, None
        return out

    def log_mellin(self, s):
        s = np.asarray(s, dtype=np.complex128)
        out = s * self.log_y0
        for factor, count, lw in self.factors:
            out = out + count * (s * lw + factor.log(s))
        return out

    def cgf(self, theta):
        k, d1, d2 = self.log_y0 * theta, self.log_y0, 0.0
        for factor, count, lw in self.factors:
            a, b, c = factor.real(theta)
            k += count * (a + theta * lw)
            d1 += count * (b + lw)
            d2 += count * c
        return k, d1, d2

    def chernoff_range(self, eps):
        """``(lo, hi)`` in ``u = log z`` with ``P(U < lo)``, ``P(U > hi)`` at most ``eps`` times the mass (Chernoff)."""
        log_eps = math.log(eps) + self.cgf(0.0)[0]  # relative to the continuous mass
        # P(U > x) <= exp(K(t) - t x) for t > 0: the bound's x is minimised over t; mirrored for t < 0
        hi = optimize.minimize_scalar(lambda t: (self.cgf(t)[0] - log_eps) / t, bounds=(1e-6, 1e3),
                                      method="bounded", options={"xatol": 1e-10}).fun
        lo = -optimize.minimize_scalar(lambda t: -(self.cgf(t)[0] - log_eps) / t,
                                       bounds=(self.strip * (1 - 1e-9), -1e-6), method="bounded",
                                       options={"xatol": 1e-10}).fun
        return float(lo), float(hi)

    def _saddle(self, x, upper):
        """``theta`` minimising ``K(theta) - theta x - log|theta|`` on the side that gives the tail."""
        f = lambda t: self.cgf(t)[1] - x - 1.0 / t  # noqa: E731 - derivative of the exponent
        if upper:
            lo, hi = 1e-9, 1.0
            while f(hi) < 0:
                hi *= 2.0
                if hi > 1e6:
                    return hi
            return optimize.brentq(f, lo, hi, xtol=1e-12) if f(lo) < 0 else lo
        lo_end = self.strip
        hi, lo = -1e-9, max(lo_end * 0.5, -1.0)
        while f(lo) > 0:
            lo = 0.5 * (lo + lo_end)
            if lo - lo_end < 1e-3 * max(1.0, abs(lo_end)):
                raise _Pinned(lo_end)
        return optimize.brentq(f, lo, hi, xtol=1e-12) if f(hi) > 0 else hi

    def tail(self, t, upper):
        """``P(z > t)`` (``upper``) or ``P(0 < z <= t)`` for each ``t > 0``, relative accuracy ~1e-12; NaN
        where ``t`` lies in the bulk (the saddle point too close to it for the inversion), where the grid answers."""
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        out = np.empty(t.shape)
        for i, ti in enumerate(t.ravel()):
            try:
                out.flat[i] = self._tail_one(math.log(ti), upper)
            except _InBulk:
                out.flat[i] = math.nan
            except _Pinned:
                # the saddle lies against the pole of a term of tiny weight (a rare small number of
                # active units), closer than float64 can place it: convolve in log space instead
                value, err = self._convolution().cdf(ti)
                out.flat[i] = value[0]
                if err[0] > 1e-8:
                    warnings.warn(f"P(0 < z <= {ti:.6g}) = {value[0]:.6g} by log-space convolution has relative "
                                  f"error estimate {err[0]:.2g} > 1e-8", SigdistWarning, stacklevel=5)
        return out

    def _convolution(self):
        if getattr(self, "_log_convolution", None) is None:
            self._log_convolution = LogConvolutionTails(self.factors, self.log_y0)
        return self._log_convolution

    def _tail_one(self, x, upper):
        theta = self._saddle(x, upper)
        k0, _, var = self.cgf(theta)
        sigma = math.sqrt(max(var, 1e-300))
        log_scale = k0 - theta * x  # |integrand| <= exp(log_scale) / |s|
        # frequency cut: |M(theta + i w) / M(theta)| below 1e-17
        w_max = 8.0 / sigma
        while True:
            d = self.log_mellin(theta + 1j * w_max).real - k0
            if d < -40.0:
                break
            w_max *= 1.5
        # period of the images: many tilted standard deviations, and far enough that the images,
        # at most exp(log_scale) e^{-|theta| T}, stay below 1e-14 of the saddle estimate of the value
        estimate = log_scale - math.log(abs(theta) * sigma * math.sqrt(2 * math.pi))
        period = max(60.0 * sigma, (33.0 - min(estimate, 0.0)) / abs(theta),
                     34.0 / max(theta - self.strip, 1e-3))
        n = int(math.ceil(w_max * period / (2 * math.pi))) + 1
        if n > 4_000_000:
            raise _InBulk(f"Mellin-Barnes tail at log t = {x:.6g} needs {n} nodes (saddle {theta:.3g}): "
                          "the point lies in the bulk, where the grid answers")
        w = np.linspace(0.0, w_max, n)
        dw = w[1] - w[0]
        s = theta + 1j * w
        terms = np.exp(self.pruned(theta).log_mellin(s) - s * x - log_scale) / (s if upper else -s)
        total = dw * (np.sum(terms.real) - 0.5 * terms.real[0]) / math.pi
        if not total > 0:
            return 0.0
        return math.exp(log_scale + math.log(total))
