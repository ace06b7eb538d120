r"""Far right tails of biased chi-square chains by positive quadrature in log space.

With biases the chain :math:`z_l = (\sigma_{w,l}^2 z_{l-1} + \sigma_{b,l}^2)\, S_l` is no product, so
neither the Mellin–Barnes route (:mod:`sigdist._mellin`) nor the convolution of
:mod:`sigdist._log_convolution` applies; past depth 2 the far right tail of :math:`z_L` lives in the
far right tail of :math:`z_{L-1}`, beyond what that law's grid holds. In :math:`U_l = \log z_l` the
chain is

.. math::
    p_l(u) = \int p_{l-1}(v)\, q_l\big(u - g_l(v)\big)\, dv + a_{l-1}\, q_l\big(u - \log \sigma_{b,l}^2\big),
    \qquad g_l(v) = \log(\sigma_{w,l}^2 e^v + \sigma_{b,l}^2),

with :math:`q_l` the density of :math:`\log S_l` (a chi-square mixture, closed form) and
:math:`a_{l-1} = P(z_{l-1} = 0)`. Far right the integrand is a peak whose width shrinks like
:math:`(z / s_l)^{-1/2}` (:math:`s_l` the layer's scale), so each :math:`p_l` is kept as log-values on
nodes :math:`u(\xi_i)`, uniform in :math:`\xi` with :math:`d\xi/du = \sqrt{1 + e^{u - \log s_l}}`
(closed form :math:`\xi = 2r + \log E - 2\log(1 + r)`, :math:`E = e^{u - \log s_l}`,
:math:`r = \sqrt{1 + E}`), reaching where it falls below :math:`e^{-800}`. The integral is the
trapezoid rule in :math:`\xi` (weights :math:`h/r`) with every sum of positive terms taken in log
space, so the far right tail keeps *relative* accuracy; the integrand is analytic in :math:`\xi`, so
the error falls geometrically with the step :math:`h` and the run at :math:`2h` estimates it.
:math:`\log q_l` is read from a table by cubic interpolation (error below 1e-13). Last,

.. math:: P(z_L > t) = \sum_j h_j\, p_{L-1}(v_j)\, \bar F_L\big(\log t - g_L(v_j)\big)
          + a_{L-1} \bar F_L(\log t - \log\sigma_{b,L}^2),

with :math:`\bar F_L` the last layer's exact survival function (regularised upper incomplete gamma
functions, in logs where they underflow).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import special

from ._numba import njit
from ._warnings import SigdistWarning
from .kernel import Chi2Mixture

_LOG2 = math.log(2.0)
_FLOOR = -800.0  # log-densities below this cannot move a probability >= 1e-300 by 1e-12 relative
_SUB = 32  # table steps per grid step


@njit(nogil=True)
def _chain_step(a, g, u, table, w0, dw):
    """``log sum_j exp(a_j + log q(u_i - g_j))``, ``log q`` by cubic interpolation in ``table``
    (values at ``w0 + k dw``; -inf outside)."""
    out = np.full(u.size, -np.inf)
    m = table.size
    vals = np.empty(a.size)
    for i in range(u.size):
        top = -np.inf
        for j in range(a.size):
            x = (u[i] - g[j] - w0) / dw
            k = int(math.floor(x))
            if k < 1 or k > m - 3 or a[j] == -np.inf:
                vals[j] = -np.inf
                continue
            t = x - k
            f0, f1, f2, f3 = table[k - 1], table[k], table[k + 1], table[k + 2]
            if f0 == -np.inf or f3 == -np.inf:
                vals[j] = -np.inf
                continue
            lq = (f1 + 0.5 * t * (f2 - f0 + t * (2.0 * f0 - 5.0 * f1 + 4.0 * f2 - f3
                                                  + t * (3.0 * (f1 - f2) + f3 - f0))))
            vals[j] = a[j] + lq
            top = max(top, vals[j])
        if top == -np.inf:
            continue
        total = 0.0
        for j in range(a.size):
            if vals[j] != -np.inf:
                total += math.exp(vals[j] - top)
        out[i] = top + math.log(total)
    return out


def _log_upper_gamma(a, log_y):
    """``log Q(a, e^log_y)`` (regularised upper incomplete gamma), relative accuracy where it underflows:
    the continued fraction of Q (modified Lentz), valid for ``y > a + 1``, where Q is that small."""
    a, log_y = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(log_y, dtype=np.float64))
    y = np.exp(np.minimum(log_y, 700.0))
    with np.errstate(divide="ignore"):
        out = np.log(special.gammaincc(a, y))
    small = out < -650.0
    if np.any(small):
        aa, yy = a[small], y[small]
        b = yy + 1.0 - aa
        c = np.full_like(aa, 1e300)
        d = 1.0 / b
        frac = d.copy()
        for n in range(1, 300):
            an = -n * (n - aa)
            b = b + 2.0
            d = an * d + b
            d = np.where(np.abs(d) < 1e-300, 1e-300, d)
            c = b + an / c
            c = np.where(np.abs(c) < 1e-300, 1e-300, c)
            d = 1.0 / d
            delta = d * c
            frac = frac * delta
            if np.all(np.abs(delta - 1.0) < 1e-16):
                break
        out[small] = aa * log_y[small] - yy - special.gammaln(aa) + np.log(frac)
    return out


class _Layer:
    def __init__(self, layer):
        mix = Chi2Mixture(layer, cutoff=745.0)
        self.mix = mix
        self.atom = mix.atom
        self.log_w2 = math.log(layer.sigma_w2)
        self.log_b2 = math.log(layer.sigma_b2) if layer.sigma_b2 > 0 else -math.inf
        self.half, self.ls = 0.5 * mix.k.astype(np.float64), mix.log_scale
        self.log_w = mix.log_weights
        # log E[S] (continuous part included in the weights): the chain's scales s_l follow E[z_l]
        self.log_mean_s = float(special.logsumexp(self.log_w + np.log(mix.k) + self.ls))
        self.sd = math.sqrt(float(special.polygamma(1, self.half.max())))
        # where log q falls below _FLOOR: the K = 1 term's e^{v/2} on the left, e^{-e^v/2} on the right
        self.w_lo = float(2.0 * (_FLOOR - self.log_w.max())) + self.ls.min()
        self.w_hi = math.log(2.0 * (self.half.max() - _FLOOR + 50.0)) + self.ls.max() + 1.0

    def g(self, v):
        return np.logaddexp(self.log_w2 + v, self.log_b2)

    def log_q(self, w):
        return self.mix.log_log_density(w)

    def log_sf(self, w):
        """``log P(log S > w)``, relative accuracy however far right."""
        y = w[:, None] - self.ls - _LOG2
        return special.logsumexp(self.log_w + _log_upper_gamma(self.half, y), axis=1)


def _nodes(lo, hi, c, m, h):
    """Nodes ``u(xi_i)``, ``xi_i = i h``, spanning ``[lo, hi]``, and their weights ``h du/dxi = h / r``:
    ``d xi / du = r = sqrt(1 + E)``, ``E = e^{(u - c)/m}``, so the step shrinks like the width of the far
    right peak of ``m`` composed layers of scale ``e^c`` (``xi = m (2r + log E - 2 log(1 + r))``)."""
    def xi(u):
        log_e = (u - c) / m
        r = np.sqrt(1.0 + np.exp(log_e))
        return m * (2.0 * r + log_e - 2.0 * np.log1p(r))

    k = np.arange(math.floor(float(xi(np.array(lo))) / h), math.ceil(float(xi(np.array(hi))) / h) + 1)
    target = k * h
    # start from the two ends' asymptotes (xi ~ u - c + m (2 - log 4); xi ~ 2 m sqrt(E)), then Newton
    far = 4.0 * m
    u = np.where(target < far, target + c - m * (2.0 - math.log(4.0)),
                 c + 2.0 * m * np.log(np.maximum(target, far) / (2.0 * m)))
    for _ in range(100):
        step = (xi(u) - target) / np.sqrt(1.0 + np.exp((u - c) / m))
        u = u - step
        if np.all(np.abs(step) < 1e-14 * np.maximum(1.0, np.abs(u))):
            break
    return u, h / np.sqrt(1.0 + np.exp((u - c) / m))


class ChainRightTails:
    """``P(z_L > t)`` of a chi-square chain (relu, leaky relu, linear, abs) with biases, from a point.

    Parameters
    ----------
    layers : list of Layer
        The layers in order (at least two; chi-square activations).
    y0 : float
        The squared input norm (``>= 0``).
    """

    def __init__(self, layers, y0):
        self.layers = [_Layer(layer) for layer in layers]
        self.log_s0 = float(np.logaddexp(self.layers[0].log_w2 + math.log(y0) if y0 > 0 else -math.inf,
                                         self.layers[0].log_b2))
        self.h = min(0.25, min(layer.sd for layer in self.layers) / 1.5)
        self._built = {}

    def tail(self, t, upper=True):
        """``P(z > t)`` for each ``t > 0`` (the interface of :class:`sigdist._mellin.ProductTails`; right tail
        only); warns where the error estimate exceeds 1e-8."""
        if not upper:
            raise ValueError("ChainRightTails answers the right tail only")
        t = np.asarray(t, dtype=np.float64)
        value, err = self.sf(t.ravel())
        if np.any(err > 1e-8):
            i = int(np.argmax(err))
            warnings.warn(f"P(z > {t.flat[i]:.6g}) = {value[i]:.6g} by log-space quadrature has relative error "
                          f"estimate {err[i]:.2g} > 1e-8", SigdistWarning, stacklevel=5)
        return value.reshape(t.shape)

    def sf(self, t):
        """``(value, relative error estimate)`` arrays for ``t > 0``."""
        x = np.log(np.atleast_1d(np.asarray(t, dtype=np.float64)))
        fine, coarse = self._log_sf(x, self.h), self._log_sf(x, 2.0 * self.h)
        with np.errstate(invalid="ignore"):
            delta = np.abs(np.expm1(coarse - fine))
        # geometric convergence: halving h squares the relative error
        return np.exp(fine), np.maximum(delta * delta, 1e-14)

    def _log_sf(self, x, h):
        v, logp, log_atom = self._previous(h)
        last = self.layers[-1]
        g = last.g(v)
        out = np.empty(x.size)
        block = max(1, 4_000_000 // (v.size * last.half.size))
        for i in range(0, x.size, block):
            xs = x[i:i + block]
            terms = logp[None, :] + last.log_sf((xs[:, None] - g[None, :]).ravel()).reshape(xs.size, v.size)
            out[i:i + block] = special.logsumexp(terms, axis=1)
        if log_atom > -math.inf and last.log_b2 > -math.inf:
            out = np.logaddexp(out, log_atom + last.log_sf(x - last.log_b2))
        return out

    def _previous(self, h):
        """``(v, log(weight p_{L-1}(v)), log a_{L-1})``: the law of ``U_{L-1}`` on its nodes, once per ``h``."""
        if h in self._built:
            return self._built[h]
        first = self.layers[0]
        c = self.log_s0
        lo = self._left(first, c, self.layers[1])
        v, weight = _nodes(lo, c + first.w_hi, c, 1, h)
        logp = first.log_q(v - c) + np.log(weight)
        end = np.flatnonzero(logp > _FLOOR)[-1] + 1
        v, logp = v[:end], logp[:end]
        logp[0] = np.logaddexp(logp[0], math.log(first.mix.cdf_positive(math.exp(lo - c)) + 1e-300))
        log_atom = math.log(first.atom) if first.atom > 0 else -math.inf
        log_mean = c + first.log_mean_s
        for m, layer in enumerate(self.layers[1:-1], start=2):
            c = float(np.logaddexp(layer.log_w2 + log_mean, layer.log_b2))  # the layer's scale s_l
            v, logp = self._step(layer, v, logp, log_atom, h, c, m, self._left(layer, c, self.layers[m]))
            # z_l = 0 when K_l = 0, and without a bias also when z_{l-1} = 0
            previous = math.exp(log_atom) if layer.log_b2 == -math.inf else 0.0
            atom = previous + (1.0 - previous) * layer.atom
            log_atom = math.log(atom) if atom > 0 else -math.inf
            log_mean = c + layer.log_mean_s
        self._built[h] = (v, logp, log_atom)
        return self._built[h]

    @staticmethod
    def _left(layer, c, following):
        """Left end of ``U_l``'s nodes: below the bulk, and far enough below where the next layer's bias
        takes over (``g(v) = log(sigma_w2 e^v + sigma_b2)`` flat to e^-35) that folding the mass left of it
        into the first node changes no ``g``; the far right tail weighs that mass with the rest."""
        bulk = c + layer.mix.log_range(1e-12)[0]
        if following.log_b2 == -math.inf:
            return bulk
        return min(bulk, following.log_b2 - following.log_w2 - 35.0)

    @staticmethod
    def _step(layer, v, logp, log_atom, h, c, m, lo):
        g = layer.g(v)
        a = logp
        if log_atom > -math.inf and layer.log_b2 > -math.inf:
            g, a = np.append(g, layer.log_b2), np.append(logp, log_atom)
        u, weight = _nodes(lo, float(g.max()) + layer.w_hi, c, m, h)
        # log q by cubic interpolation: its curvature is at most e^w / 2 (w <= w_hi), so this step keeps the
        # interpolation error (dw^4 / 384 times the fourth derivative) below 1e-13
        w0 = max(layer.w_lo, u[0] - float(g.max()) - 1.0)
        w1 = min(layer.w_hi, u[-1] - float(g.min())) + 1.0
        dw = min(h / _SUB, (384e-13 / (0.5 * math.exp(w1))) ** 0.25)
        table_w = w0 + dw * np.arange(int(math.ceil((w1 - w0) / dw)) + 4)
        out = _chain_step(a, g, u, layer.log_q(table_w), w0, dw) + np.log(weight)
        keep = np.flatnonzero(out > _FLOOR)
        u, out = u[:keep[-1] + 1], out[:keep[-1] + 1]
        # what the nodes do not hold (left of them) goes into the first node
        total = special.logsumexp(a) + math.log1p(-layer.atom)
        kept = special.logsumexp(out)
        if total > kept:
            out[0] = np.logaddexp(out[0], total + math.log(-math.expm1(kept - total)))
        return u, out
