"""Independent high-precision reference values for the FAR TAILS (down to 1e-300) and the
exact integer moments of the squared signal norm z_L of random fully connected relu /
linear networks (Burkholz & Dubatovka 2019).

Regenerate with (from the repository root; 20 minutes on 2 cores (1192 s measured), about
half that on 4: the longest single job takes ~4 minutes):

    PYTHONPATH=. python validation/reference_tails.py            # writes tests/data/reference_tails.json
    PYTHONPATH=. python validation/reference_tails.py --jobs 1   # single process
    PYTHONPATH=. python validation/reference_tails.py --quick    # a few cases, prints, writes nothing

This script deliberately does NOT import anything from ``sigdist``; it works only from
the mathematical definition of the model, in mpmath (mp.dps = 40, checks at 50).

Model
-----
z_0 = y0 (a point).  Layer l (width N, weights N(0, sw2), biases N(0, sb2)):
s_l = sw2 z_{l-1} + sb2 and z_l = s_l S_l with S_l independent of z_{l-1}:
relu: S = chi2_K, K ~ Bin(N, 1/2) (K = 0: S = 0, an atom); linear: S = chi2_N.
Write b_k = C(N, k) 2^-N.  'cdf_cont' is P(0 < z_L <= t) (the CDF without the atom),
'sf' is P(z_L > t).

Route A (zero bias, all depths): Mellin-Barnes inversion
---------------------------------------------------------
z_L = A prod_l S_l with A = y0 prod sw2_l; the continuous part of z_L is exactly the
product of the continuous parts (relu: an atom at layer l maps to the atom), so its
(defective) Mellin transform is

    M(s) = E[z_L^s; z_L > 0] = A^s prod_l m_l(s),  m_l(s) = 2^s sum_{k>=1} b_k G(k/2+s)/G(k/2)

(linear: m(s) = 2^s G(N/2+s)/G(N/2)); G(k/2+s)/G(k/2) is computed by loggamma for
k = 1, 2 and the exact recursion r_{k+2} = r_k (1 + 2s/k).  Then

    cdf_cont(t) = (1/2 pi i) int_C M(s) t^-s (-1/s) ds,  C crossing the real axis in (p1, 0),
    sf(t)       = (1/2 pi i) int_C M(s) t^-s ( 1/s) ds,  C crossing in (0, inf),

p1 = -min_l kmin_l / 2 the rightmost pole of M (kmin = 1 relu, N linear).  C crosses
the real axis at the saddle point c of the (convex) K(c) = log(M(c) t^-c / |c|), so the
integrand has no cancellation and the result keeps RELATIVE accuracy in the far tails.
sf: the vertical line s = c + iu.  cdf_cont: the parabola s = c + iu - kappa u^2 with
kappa = min(1 / (2 (c - p1)), 1) (the cap keeps it >= 0.7 from the other poles): it bends left, away from the poles (all on the real axis, so
none is crossed), where t^-s decays; on a vertical line a saddle close to the pole would
leave an integrand decaying only like u^-L while oscillating with frequency |log t|.
The line is cut into panels of length 2 / (|dK/du| + 1/(w + u)) (w = K''(c)^-1/2) and
each is integrated with 48-point Gauss-Legendre, up to where the integrand has dropped by
e^-(2.3 (dps - 6)) relative to the saddle.  If the result is more than 1e3 below the
saddle value e^K(c) (digits lost to cancellation) it is recomputed with that many more digits.
Check: the same inversion on a different contour (crossing point moved by 20 %, kappa
halved, 24-point rule on panels 1.3x as long, dps 48); the relative difference is 'err_est'.
Known limit: for a wide relu layer (N = 50) the saddle of cdf_cont is pinned next to the
pole at -1/2 of the tiny-weight k = 1 term (weight N 2^-N) and the contour integral
cancels; the check then disagrees (> 1e-15), and the case takes route B as its value
(L <= 2; 'route_a_failed_rel' records it) or is dropped (L >= 3, printed).

Route B (independent):
----------------------
* L = 1: closed form cdf_cont = sum_{k>=1} b_k P(k/2, x/2), sf = sum b_k Q(k/2, x/2),
  x = t / s_1, with mpmath.gammainc (regularized) for every k.
* L = 2: nested quadrature over v = log S_1 (z_1 = s_1 e^v):
    cdf_cont(t) = b0^(1) F2(t / sb2_2) [only if sb2_2 > 0]
                  + int sum_{k>=1} b^(1)_k g_k(v) F2(t / (sw2_2 s_1 e^v + sb2_2)) dv
  (sf likewise with F2 -> Q2 and the atom term b0^(1) Q2(t/sb2_2)), g_k the density of
  log chi2_k, F2 = sum_{k>=1} b^(2)_k P(k/2, x/2), Q2 = sum_{k>=1} b^(2)_k Q(k/2, x/2).
  P and Q of all k come from positive-term recursions only (Q upward:
  Q(a+1) = Q(a) + y^a e^-y / G(a+1), from erfc and exp; P downward from the top
  P(a) = P(a+1) + y^a e^-y / G(a+1), the top from 1 - Q or gammainc), so they keep
  relative accuracy at any y.  The integrand is positive; its support is found by a
  coarse scan plus a walk outwards from the maximum with steps 3 / |d log I / dv|,
  cut where it is below e^-125 of the maximum; 48-point Gauss-Legendre panels.
  Check: a second run with steps 0.6 times as long and dps 48.
  With bias this is the only route (two splittings / precisions are the check).

Moments: E[z_L^k], k = 1..6, exact rational recursion (Fractions) from the exact binary values of the
float parameters: E[S^k] = sum_K b_K prod_{j<k} (K + 2j) (relu), prod_{j<k} (N + 2j) (linear),
E[z_l^k] = E[S^k] sum_j C(k, j) sw2^j sb2^(k-j) E[z_{l-1}^j].  Checks: zero bias,
E[z_L^k] = M(k) from the gamma form of route A; with bias, L = 1: the gamma form, L = 2:
quadrature of E[S_2^k] E[(sw2_2 z_1 + sb2_2)^k] over the law of z_1; deep with bias: the
recursion in 60-digit floats (arithmetic only; the rational recursion is exact).

Output: tests/data/reference_tails.json, {"header": {...}, "cases": [...]}; each case has
id, group, layers [{width, sigma_w2, sigma_b2, activation}], y0, quantity
('cdf_cont' | 'sf' | 'log_moment'), t (or k for moments), value (decimal string, 25
significant digits), log10 (of value), route, err_est (relative, from the check route).
For 'log_moment', value is E[z^k] itself and log10 its base-10 logarithm (the value may
lie far outside the float64 range).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from fractions import Fraction
from math import comb

import mpmath
from mpmath import mp, mpf, mpc

DPS = 40
CHECK_DPS = 48

# ----------------------------------------------------------------------------------------
# Gauss-Legendre nodes (48 points on [-1, 1]) at the current precision, cached per prec
# ----------------------------------------------------------------------------------------
_GL = {}


def gl_nodes(degree=5):
    key = (mp.prec, degree)
    if key not in _GL:
        from mpmath.calculus.quadrature import GaussLegendre
        _GL[key] = GaussLegendre(mp).calc_nodes(degree, mp.prec + 20)  # 3 * 2^(degree-1) nodes
    return _GL[key]


def gl_panels(f, edges, degree=5):
    """sum over panels [edges[i], edges[i+1]] of 48-point (degree 5) Gauss-Legendre of f."""
    nodes = gl_nodes(degree)
    total = mpf(0)
    for a, b in zip(edges[:-1], edges[1:]):
        h = (b - a) / 2
        m = (a + b) / 2
        s = 0
        for x, w in nodes:
            s += w * f(m + h * x)
        total += h * s
    return total


# ----------------------------------------------------------------------------------------
# layers
# ----------------------------------------------------------------------------------------
def weights(layer):
    """{k: b_k} for k >= 1 (the continuous part of S), and b_0 (the atom of S)."""
    n = layer["width"]
    if layer["activation"] == "linear":
        return {n: mpf(1)}, mpf(0)
    two = mpf(2) ** (-n)
    return {k: comb(n, k) * two for k in range(1, n + 1)}, two


def layer_key(layer):
    return (layer["activation"], layer["width"])


# ----------------------------------------------------------------------------------------
# Route A: Mellin-Barnes
# ----------------------------------------------------------------------------------------
class Mellin:
    """Mellin transform of the continuous part of z_L for a zero-bias network."""

    def __init__(self, layers, y0):
        assert all(l["sigma_b2"] == 0 for l in layers)
        self.logA = mp.log(mpf(y0)) + mp.fsum(mp.log(mpf(l["sigma_w2"])) for l in layers)
        groups = {}
        for l in layers:
            groups[layer_key(l)] = groups.get(layer_key(l), 0) + 1
        self.groups = []
        for (act, n), mult in groups.items():
            w, _ = weights({"activation": act, "width": n})
            self.groups.append((act, n, mult, w))
        self.p1 = max(-mpf(1) / 2 if act == "relu" else -mpf(n) / 2 for act, n, _, _ in self.groups)

    @staticmethod
    def _ratios(w, s):
        """r_k = G(k/2+s)/G(k/2) for every k with weight, by loggamma for the two smallest
        k of each parity and the exact recursion r_{k+2} = r_k (1 + 2 s / k)."""
        ks = sorted(w)
        r = {}
        for k in ks:
            if k - 2 in r:
                r[k] = r[k - 2] * (1 + 2 * s / (k - 2))
            else:
                r[k] = mp.exp(mp.loggamma(mpf(k) / 2 + s) - mp.loggamma(mpf(k) / 2))
        return r

    def log_m(self, s):
        """sum over groups mult * log m(s) (log of a sum: principal branch is enough, it is
        exponentiated again)."""
        out = 0
        for act, n, mult, w in self.groups:
            if act == "linear":
                lm = mp.loggamma(mpf(n) / 2 + s) - mp.loggamma(mpf(n) / 2)
            else:
                r = self._ratios(w, s)
                lm = mp.log(mp.fsum(w[k] * r[k] for k in w))
            out += mult * (s * mp.log(2) + lm)
        return out

    def dlog_m(self, s):
        """d/ds of log_m (digamma by the recursion psi(a+1) = psi(a) + 1/a)."""
        out = 0
        for act, n, mult, w in self.groups:
            if act == "linear":
                d = mp.digamma(mpf(n) / 2 + s)
            else:
                r = self._ratios(w, s)
                psi = {}
                for k in sorted(w):
                    if k - 2 in psi:
                        psi[k] = psi[k - 2] + 1 / (mpf(k - 2) / 2 + s)
                    else:
                        psi[k] = mp.digamma(mpf(k) / 2 + s)
                num = mp.fsum(w[k] * r[k] * psi[k] for k in w)
                den = mp.fsum(w[k] * r[k] for k in w)
                d = num / den
            out += mult * (mp.log(2) + d)
        return out

    def moment(self, k):
        return mp.exp(k * self.logA + self.log_m(mpf(k)))

    # K(s) = log M(s) - s log t + log(sign / s)
    def K(self, s, logt, sign):
        return s * (self.logA - logt) + self.log_m(s) + mp.log(sign / s)

    def dK(self, s, logt):
        return (self.logA - logt) + self.dlog_m(s) - 1 / s

    def saddle(self, logt, which):
        """Real minimiser of K on (p1, 0) ('cdf_cont') or (0, inf) ('sf'): K' is increasing."""
        p1 = self.p1
        if which == "cdf_cont":
            to_c = lambda x: p1 - p1 / (1 + mp.exp(-x))      # (-inf, inf) -> (p1, 0)
        else:
            to_c = lambda x: mp.exp(x)                         # (-inf, inf) -> (0, inf)
        lo, hi = (mpf(-35), mpf(35)) if which == "cdf_cont" else (mpf(-35), mpf(16))
        with mp.workdps(30):
            for _ in range(200):
                mid = (lo + hi) / 2
                if self.dK(to_c(mid), logt) < 0:
                    lo = mid
                else:
                    hi = mid
                if hi - lo < mpf(10) ** -12:
                    break
        return to_c((lo + hi) / 2)

    def invert(self, t, which, shift=0.0, kappa_factor=1.0, step_factor=1.0, degree=5, cut=None, _redo=False):
        """P(0 < z <= t) ('cdf_cont') or P(z > t) ('sf') by Mellin-Barnes on the saddle contour.

        shift, kappa_factor, step_factor move the contour away from the optimal one (for the check)."""
        logt = mp.log(mpf(t))
        sign = -1 if which == "cdf_cont" else 1
        c = self.saddle(logt, which)
        if shift:
            c = self.p1 + (c - self.p1) * (1 - shift) if which == "cdf_cont" else c * (1 + shift) + shift / 10
        # second derivative by a central difference of dK (only sets scales)
        with mp.workdps(30):
            eps = (abs(c - self.p1) if which == "cdf_cont" else abs(c)) * mpf("1e-6")
            K2 = (self.dK(c + eps, logt) - self.dK(c - eps, logt)) / (2 * eps)
        w = 1 / mp.sqrt(abs(K2))
        # kappa <= 1 keeps the parabola >= 0.7 away from every other pole of M (they lie on the
        # real axis, >= 1/2 left of p1): a steeper one would graze them
        kappa = kappa_factor * min(1 / (2 * (c - self.p1)), mpf(1)) if which == "cdf_cont" else mpf(0)
        K0 = self.K(mpf(c), logt, sign).real

        def s_of(u):
            return mpc(c - kappa * u * u, u)

        def ds_of(u):
            return mpc(-2 * kappa * u, 1)

        def integrand(u):
            s = s_of(u)
            return (mp.exp(self.K(s, logt, sign) - K0) * ds_of(u) / mpc(0, 1)).real

        # panels: length 1.5 / (|dK/du| + 1/w), until the integrand is below e^-cut
        cut = 2.3 * (mp.dps - 6) if cut is None else cut
        edges = [mpf(0)]
        u = mpf(0)
        below = 0
        with mp.workdps(20):
            while True:
                s = s_of(u)
                dKdu = (self.dK(s, logt) + sign * 0) * ds_of(u)
                h = step_factor * 2.0 / (abs(dKdu) + 1 / (w + u))
                u = u + h
                edges.append(u)
                if (self.K(s_of(u), logt, sign).real - K0) < -cut:
                    below += 1
                    if below >= 2:
                        break
                if len(edges) > 4000:
                    raise RuntimeError("contour did not decay")
        val = gl_panels(integrand, edges, degree) / mp.pi
        # cancellation: the integrand is O(1) near the saddle after scaling by e^K0; a result
        # much smaller than that lost digits (a mixture whose small-weight pole pins the saddle):
        # redo with that many more digits
        lost = -mp.log10(abs(val)) if val != 0 else mpf(mp.dps)
        if lost > 3 and not _redo:
            with mp.workdps(mp.dps + int(lost) + 8):
                return self.invert(t, which, shift, kappa_factor, step_factor, degree, cut, _redo=True)
        return val * mp.exp(K0), dict(c=float(c), kappa=float(kappa), panels=len(edges) - 1,
                                      dps=mp.dps, lost_digits=float(lost))


# ----------------------------------------------------------------------------------------
# Route B: closed form (L = 1) and nested quadrature (L = 2)
# ----------------------------------------------------------------------------------------
def layer_scale(layer, y):
    return mpf(layer["sigma_w2"]) * y + mpf(layer["sigma_b2"])


def closed_form_1(layer, y0, t, which):
    """L = 1: sum_k b_k P(k/2, x/2) or Q(k/2, x/2) with mpmath.gammainc for every k."""
    s = layer_scale(layer, mpf(y0))
    x = mpf(t) / s
    w, _ = weights(layer)
    out = 0
    for k, bk in w.items():
        if which == "cdf_cont":
            out += bk * mp.gammainc(mpf(k) / 2, 0, x / 2, regularized=True)
        else:
            out += bk * mp.gammainc(mpf(k) / 2, x / 2, mp.inf, regularized=True)
    return out


def chi2_PQ(w, x):
    """(sum_k w_k P(k/2, x/2), sum_k w_k Q(k/2, x/2)) by positive-term recursions only."""
    y = x / 2
    kmax = max(w)
    ey = mp.exp(-y)
    # T_a = y^a e^-y / G(a+1) for a = k/2, k = 1..kmax
    T = {1: mp.sqrt(y) * ey / mp.gamma(mpf(3) / 2), 2: y * ey}
    for k in range(3, kmax + 1):
        T[k] = T[k - 2] * y / (mpf(k) / 2)
    if y > mpf(10) ** 15:
        # mpmath's erfc overflows a float in its series test for astronomically large
        # arguments; the asymptotic series is exact to (15/8) y^-3 relative there
        q1 = ey / mp.sqrt(mp.pi * y) * (1 - 1 / (2 * y) + 3 / (4 * y * y))
    else:
        q1 = mp.erfc(mp.sqrt(y))
    Q = {1: q1, 2: ey}
    for k in range(3, kmax + 1):
        Q[k] = Q[k - 2] + T[k - 2]
    P = {}
    for top in (kmax, kmax - 1):
        if top < 1:
            continue
        P[top] = 1 - Q[top] if Q[top] < mpf(1) / 4 else mp.gammainc(mpf(top) / 2, 0, y, regularized=True)
        k = top - 2
        while k >= 1:
            P[k] = P[k + 2] + T[k]
            k -= 2
    return mp.fsum(bk * P[k] for k, bk in w.items()), mp.fsum(bk * Q[k] for k, bk in w.items())


def log_chi2_density_mix(w, v):
    """sum_k w_k g_k(v), g_k the density of log chi2_k at v (recursion g_{k+2} = g_k e^v / k)."""
    ev = mp.exp(v)
    kmax = max(w)
    g = {1: mp.exp(v / 2 - mp.log(2) / 2 - ev / 2 - mp.loggamma(mpf(1) / 2)),
         2: mp.exp(v - mp.log(2) - ev / 2)}
    for k in range(3, kmax + 1):
        g[k] = g[k - 2] * ev / (k - 2)
    return mp.fsum(wk * g[k] for k, wk in w.items())


def nested_2(layers, y0, t, which, step_factor=1.0, moment=None, fast=False):
    """L = 2 (any bias): cdf_cont / sf of z_2 at t by quadrature over v = log S_1.

    moment=k instead returns E[(sw2_2 z_1 + sb2_2)^k] (the atom of z_1 included)."""
    l1, l2 = layers
    s1 = layer_scale(l1, mpf(y0))
    w1, b0_1 = weights(l1)
    w2, _ = weights(l2)
    sw2, sb2 = mpf(l2["sigma_w2"]), mpf(l2["sigma_b2"])
    t = mpf(t) if t is not None else None
    idx = 0 if which == "cdf_cont" else 1

    def inner(scale):
        if moment is not None:
            return scale ** moment
        return chi2_PQ(w2, t / scale)[idx]

    def I(v):
        return log_chi2_density_mix(w1, v) * inner(sw2 * s1 * mp.exp(v) + sb2)

    def logI(v):
        val = I(v)
        return mp.log(val) if val > 0 else mpf(-10) ** 9

    # coarse scan for the maximum of log I over a wide range of v
    with mp.workdps(20):
        if moment is None:
            lo = min(mp.log(t / (sw2 * s1)) - 80, mpf(-150)) if sb2 == 0 else mpf(-700)
        else:
            lo = mpf(-700)
        lo = max(lo, mpf(-4000))
        nscan = 120 if fast else 600
        vs = [lo + j * (8 - lo) / nscan for j in range(nscan + 1)]
        vals = [logI(v) for v in vs]
        jmax = max(range(len(vs)), key=lambda j: vals[j])
        vmax, lmax = vs[jmax], vals[jmax]
        # refine the maximum a little (golden section on the bracketing cells)
        a = vs[max(jmax - 1, 0)]
        b = vs[min(jmax + 1, len(vs) - 1)]
        for _ in range(12 if fast else 40):
            m1, m2 = a + (b - a) * mpf("0.382"), a + (b - a) * mpf("0.618")
            if logI(m1) > logI(m2):
                b = m2
            else:
                a = m1
        vmax = (a + b) / 2
        lmax = max(lmax, logI(vmax))
        cut = 40 if fast else 125

        def walk(direction):
            pts = []
            v = vmax
            below = 0
            while True:
                e = mpf("1e-4")
                fp, f0, fm = logI(v + e), logI(v), logI(v - e)
                d = (fp - fm) / (2 * e)
                d2 = (fp - 2 * f0 + fm) / (e * e)
                h = step_factor * min(mpf(2), 3 / (abs(d) + mpf("1e-30")), 2 / mp.sqrt(abs(d2) + mpf("1e-30")))
                v = v + direction * h
                pts.append(v)
                if logI(v) < lmax - cut:
                    below += 1
                    if below >= 2:
                        break
                if len(pts) > 5000:
                    raise RuntimeError("walk did not terminate")
            return pts

        left = walk(-1)
        right = walk(+1)
    edges = list(reversed(left)) + [vmax] + right
    val = gl_panels(I, edges, degree=2 if fast else 5)
    if moment is None and sb2 > 0 and b0_1 > 0:
        val += b0_1 * inner(sb2)
    if moment is not None and b0_1 > 0:
        val += b0_1 * sb2 ** moment
    return val, dict(panels=len(edges) - 1)


# ----------------------------------------------------------------------------------------
# Moments
# ----------------------------------------------------------------------------------------
def unit_moment_exact(layer, k):
    n = layer["width"]
    if layer["activation"] == "linear":
        out = 1
        for j in range(k):
            out *= n + 2 * j
        return Fraction(out)
    tot = 0
    for K in range(n + 1):
        p = 1
        for j in range(k):
            p *= K + 2 * j
        tot += comb(n, K) * p
    return Fraction(tot, 2 ** n)


def moments_exact(layers, y0, kmax=6):
    m = [Fraction(1)] + [Fraction(y0) ** j for j in range(1, kmax + 1)]
    cache = {}
    for l in layers:
        w, b = Fraction(l["sigma_w2"]), Fraction(l["sigma_b2"])
        key = (layer_key(l),)
        if key not in cache:
            cache[key] = [unit_moment_exact(l, k) for k in range(kmax + 1)]
        es = cache[key]
        wp = [w ** j for j in range(kmax + 1)]
        bp = [b ** j for j in range(kmax + 1)]
        m = [Fraction(1)] + [es[k] * sum(comb(k, j) * wp[j] * bp[k - j] * m[j] for j in range(k + 1))
                             for k in range(1, kmax + 1)]
    return m


def frac_to_mpf(f):
    return mpf(f.numerator) / mpf(f.denominator)


# ----------------------------------------------------------------------------------------
# case list
# ----------------------------------------------------------------------------------------
def L(n, sw2, sb2=0.0, act="relu"):
    return {"width": n, "sigma_w2": sw2, "sigma_b2": sb2, "activation": act}


def zero_bias_networks():
    """(group, layers, y0, [probability levels]) for route A."""
    nets = []
    full = [0.3, 1e-3, 1e-10, 1e-30, 1e-100, 1e-200, 1e-300]
    short = [0.3, 1e-30, 1e-300]
    ext = [1e-3, 1e-300]
    for act in ("relu", "linear"):
        he = (lambda n: 2.0 / n) if act == "relu" else (lambda n: 1.0 / n)
        nets.append((f"A_{act}_L1", [L(1, he(1), 0.0, act)], 1.0, full))
        nets.append((f"A_{act}_L1", [L(50, he(50), 0.0, act)], 1.0, short))
        nets.append((f"A_{act}_L2", [L(2, he(2), 0.0, act)] * 2, 1.0, full))
        nets.append((f"A_{act}_L2", [L(20, he(20), 0.0, act)] * 2, 1.0, short))
        nets.append((f"A_{act}_L3", [L(5, he(5), 0.0, act)] * 3, 1.0, short))
        nets.append((f"A_{act}_L5", [L(10, he(10), 0.0, act)] * 5, 1.0, full))
        nets.append((f"A_{act}_L6", [L(1, 1.5 if act == "relu" else 0.7, 0.0, act)] * 6, 1.0, short))
        nets.append((f"A_{act}_vary", [L(3, 0.7, 0.0, act), L(17, 0.11, 0.0, act)], 1.0, short))
        nets.append((f"A_{act}_vary", [L(2, 1.0, 0.0, act), L(5, 0.4, 0.0, act), L(10, 0.2, 0.0, act),
                                       L(20, 0.1, 0.0, act), L(50, 0.04, 0.0, act)], 1.0, short))
        for y0 in (1e-300, 1e300):
            nets.append((f"A_{act}_y0ext", [L(5, he(5), 0.0, act)] * 2, y0, ext))
            nets.append((f"A_{act}_y0ext", [L(1, he(1), 0.0, act)], y0, ext))
    return nets


def bias_networks():
    """(group, layers, y0) with sigma_b2 > 0, L = 1, 2 (route B only)."""
    nets = []
    for act in ("relu", "linear"):
        he = (lambda n: 2.0 / n) if act == "relu" else (lambda n: 1.0 / n)
        nets.append((f"B_{act}_L1", [L(2, he(2), 0.1, act)], 1.0))
        nets.append((f"B_{act}_L1", [L(20, he(20), 0.1, act)], 1.0))
        for n in (1, 5, 10):
            nets.append((f"B_{act}_L2", [L(n, he(n), 0.1, act)] * 2, 1.0))
        nets.append((f"B_{act}_L2", [L(20, he(20), 0.1, act), L(2, he(2), 0.1, act)], 1.0))
        nets.append((f"B_{act}_L2", [L(5, 0.3, 1e-3, act), L(2, 1.5, 0.5, act)], 1e-300))
    return nets


def moment_networks():
    nets = []
    for act in ("relu", "linear"):
        he = (lambda n: 2.0 / n) if act == "relu" else (lambda n: 1.0 / n)
        nets.append((f"M_{act}_bias", [L(2, he(2), 0.1, act)], 1.0))
        nets.append((f"M_{act}_bias", [L(5, he(5), 0.1, act)] * 2, 1.0))
        nets.append((f"M_{act}_bias", [L(20, 0.1, 2.0, act), L(1, 1.0, 1e-4, act)], 1e300))
        nets.append((f"M_{act}_zero", [L(5, he(5), 0.0, act)] * 3, 1.0))
        nets.append((f"M_{act}_zero", [L(1, he(1), 0.0, act)] * 2, 1e-300))
    nets.append(("M_deep", [L(1, 1.0)] * 81, 1.0))
    nets.append(("M_deep", [L(1, 1.0, 0.01)] * 81, 1.0))
    nets.append(("M_deep", [L(4, 0.5)] * 200, 1.0))
    nets.append(("M_deep", [L(4, 0.5, 0.01)] * 200, 1.0))
    nets.append(("M_deep", [L(8, 0.25)] * 300, 1.0))
    nets.append(("M_deep", [L(20, 0.1)] * 1000, 1.0))
    # (N=20, L=1000 with bias is left out: sigdist takes minutes for that law, too slow for a test)
    return nets


# ----------------------------------------------------------------------------------------
# choosing t for a target probability (float64 t, so the library can be asked at it)
# ----------------------------------------------------------------------------------------
LOG_TMIN = mp.log(mpf("2.3e-308"))
LOG_TMAX = mp.log(mpf("1.7e308"))


def t_for_level(mel, which, target):
    """float t whose saddle-point estimate M(c) t^-c / |c| of the probability is ~ target.

    Parametrised by the saddle c itself: log t = Lambda'(c) - 1/c, estimate
    Lambda(c) - c log t - log|c| (Lambda = log M), monotone in c; None if t is not a
    normal float64."""
    p1 = mel.p1
    if which == "cdf_cont":
        to_c = lambda x: p1 - p1 / (1 + mp.exp(-x))
    else:
        to_c = lambda x: mp.exp(x)

    def at(x):
        c = to_c(x)
        logt = mel.logA + mel.dlog_m(c) - 1 / c
        return logt, c * mel.logA + mel.log_m(c) - c * logt - mp.log(abs(c))

    lt = mp.log(mpf(target))
    lo, hi = (mpf(-35), mpf(35)) if which == "cdf_cont" else (mpf(-35), mpf(16))
    for _ in range(100):
        mid = (lo + hi) / 2
        logt, e = at(mid)
        if abs(e - lt) < mpf("0.01"):
            break
        if (e < lt) == (which == "cdf_cont"):
            lo = mid
        else:
            hi = mid
    if not LOG_TMIN < logt < LOG_TMAX:
        return None
    return float(mp.exp(logt))


def ts_by_walk(logP, which, start, targets):
    """float t values with log P(t) ~ log(target) for a monotone P, by walking in log t from
    start (a bulk point) with steps sized from the local slope, then linear interpolation
    in (log t, log P).  logP is a cheap low-accuracy evaluation."""
    direction = -1 if which == "cdf_cont" else 1
    pts = [(start, logP(start))]
    step = mpf(1)
    lmin = mp.log(mpf(min(targets))) - 5
    while pts[-1][1] > lmin and len(pts) < 80:
        x = pts[-1][0] + direction * step
        if not LOG_TMIN < x < LOG_TMAX:
            x = LOG_TMIN if direction < 0 else LOG_TMAX
            pts.append((x, logP(x)))
            break
        fx = logP(x)
        if pts[-1][1] - fx > 80 and step > mpf("0.02"):
            step /= 4          # overshot: a shorter step
            continue
        pts.append((x, fx))
        slope = abs(pts[-1][1] - pts[-2][1]) / step
        step = min(max(mpf("0.02"), 40 / (slope + mpf("1e-9"))), mpf(200))
    out = [float(mp.exp(start))]   # the bulk: the start point itself
    for target in targets:
        lt = mp.log(mpf(target))
        for (x0, f0), (x1, f1) in zip(pts[:-1], pts[1:]):
            if (f0 - lt) * (f1 - lt) <= 0 and f0 != f1:
                x = x0 + (lt - f0) * (x1 - x0) / (f1 - f0)
                t = float(mp.exp(x))
                if t not in out and 0 < t < math.inf:
                    out.append(t)
                break
    return out


# ----------------------------------------------------------------------------------------
# jobs
# ----------------------------------------------------------------------------------------
def rel(a, b):
    return abs(a - b) / abs(b) if b != 0 else abs(a - b)


def job_zero_bias(args):
    """route A at every level (both sides) for one network, route B where available."""
    group, layers, y0, levels = args
    mp.dps = DPS
    mel = Mellin(layers, y0)
    out = []
    mass = mp.fprod(1 - weights(l)[1] for l in layers)
    dropped = []
    for which in ("cdf_cont", "sf"):
        sign = -1 if which == "cdf_cont" else 1
        with mp.workdps(20):
            ts = []
            for p in levels:
                if p == 0.3:   # the bulk: around the mean (the saddle estimate is poor there)
                    t = float(mp.exp(mel.logA + mel.dlog_m(mpf(1)) + mp.log(0.5 if which == "cdf_cont" else 2)))
                else:
                    t = t_for_level(mel, which, p)
                if t is not None and t not in ts:
                    ts.append(t)
        for t in ts:
            val, info = mel.invert(t, which)
            with mp.workdps(CHECK_DPS):
                chk, _ = mel.invert(t, which, shift=0.2, kappa_factor=0.5, step_factor=1.3, degree=4,
                                    cut=2.3 * 30)
            errA = float(rel(chk, val))
            B, B2, routeB = None, None, None
            if len(layers) == 1:
                with mp.workdps(CHECK_DPS):
                    B = closed_form_1(layers[0], y0, t, which)
                    w, _ = weights(layers[0])
                    B2 = chi2_PQ(w, mpf(t) / layer_scale(layers[0], mpf(y0)))[0 if which == "cdf_cont" else 1]
                routeB = "closed_form_gammainc"
            elif len(layers) == 2 and (max(l["width"] for l in layers) <= 20 or errA > 1e-15
                                       or which == "sf" and val > 1e-40):
                B, _ = nested_2(layers, y0, t, which)
                if errA > 1e-15:
                    with mp.workdps(CHECK_DPS):
                        B2, _ = nested_2(layers, y0, t, which, step_factor=0.6)
                routeB = "nested_quadrature"
            rec = dict(group=group, layers=layers, y0=y0, quantity=which, t=t)
            if errA <= 1e-15:
                # route A is the reference; route B (where there is one) the independent check
                rec.update(value=val, route="mellin_barnes_saddle", err_est=errA, check_contour_rel=errA,
                           route_b=routeB, route_b_rel=float(rel(B, val)) if B is not None else None,
                           contour=info)
            elif B is not None and B2 is not None:
                # the saddle is pinned next to the tiny-weight k = 1 pole of a wide relu mixture and
                # the contour integral cancels: route B is the reference, its second run the check
                rec.update(value=B, route=routeB, err_est=float(rel(B2, B)), route_a_failed_rel=errA)
            else:
                dropped.append((group, which, t, errA))
                continue
            v = rec["value"]
            if v <= 0 or (which == "cdf_cont" and v >= mass):
                continue
            rec["value"] = mp.nstr(v, 25, min_fixed=1, max_fixed=0)
            rec["log10"] = float(mp.log10(v))
            rec["err_est"] = max(rec["err_est"], 1e-40)
            out.append(rec)
    # the Mellin transform at integer s against the exact moments (a check of M itself)
    ex = moments_exact(layers, y0, 3)
    mchk = max(float(rel(mel.moment(k), frac_to_mpf(ex[k]))) for k in (1, 2, 3))
    for c in out:
        c["mellin_moment_check_rel"] = mchk
    for d in dropped:
        print(f"    dropped (route A check {d[3]:.1e}, no route B): {d[0]} {d[1]} t={d[2]:.6g}", flush=True)
    return out


def job_bias(args):
    group, layers, y0 = args
    mp.dps = DPS
    out = []
    if len(layers) == 1:
        f = lambda t, which: closed_form_1(layers[0], y0, t, which)
        route = "closed_form_gammainc"
    else:
        f = lambda t, which: nested_2(layers, y0, t, which)[0]
        route = "nested_quadrature"
    levels = [1e-3, 1e-10, 1e-30, 1e-100, 1e-300]
    approx = {}
    with mp.workdps(15):
        # a bulk point: the mean of z_L
        m = mpf(y0)
        for l in layers:
            m = layer_scale(l, m) * (mpf(l["width"]) / (2 if l["activation"] == "relu" else 1))
        start = mp.log(m)
        for which in ("cdf_cont", "sf"):
            if len(layers) == 1:
                fast = lambda lt: mp.log(closed_form_1(layers[0], y0, float(mp.exp(lt)), which))
            else:
                fast = lambda lt: mp.log(nested_2(layers, y0, float(mp.exp(lt)), which, step_factor=3,
                                                  fast=True)[0])
            approx[which] = ts_by_walk(fast, which, start, levels)
    for which in ("cdf_cont", "sf"):
        kept = []
        for t in approx[which]:
            val = f(t, which)
            with mp.workdps(CHECK_DPS):
                if len(layers) == 1:
                    chk = closed_form_1(layers[0], y0, t, which)
                    # independent of gammainc: the chain recursion
                    w, _ = weights(layers[0])
                    chain = chi2_PQ(w, mpf(t) / layer_scale(layers[0], mpf(y0)))[0 if which == "cdf_cont" else 1]
                    err = max(float(rel(chk, val)), float(rel(chain, val)))
                else:
                    chk = nested_2(layers, y0, t, which, step_factor=0.6)[0]
                    err = float(rel(chk, val))
            # the walk's low-accuracy evaluation can land two levels on one probability: keep
            # only cases at least half a decade apart
            if val <= 0 or any(abs(mp.log10(val) - k) < 0.5 for k in kept):
                continue
            kept.append(mp.log10(val))
            out.append(dict(group=group, layers=layers, y0=y0, quantity=which, t=t,
                            value=mp.nstr(val, 25, min_fixed=1, max_fixed=0),
                            log10=float(mp.log10(val)), route=route, err_est=max(err, 1e-40)))
    return out


def job_moments(args):
    group, layers, y0 = args
    mp.dps = DPS
    ex = moments_exact(layers, y0, 6)
    zero = all(l["sigma_b2"] == 0 for l in layers)
    out = []
    for k in range(1, 7):
        val = frac_to_mpf(ex[k])
        # check 1: the same recursion in mpmath floats at 60 digits (arithmetic);
        # check 2 (zero bias): the gamma form M(k); (L <= 2 with bias): quadrature over z_1
        chk_note, err = None, None
        if zero:
            with mp.workdps(CHECK_DPS):
                err = float(rel(Mellin(layers, y0).moment(k), val))
            chk_note = "mellin_gamma_form"
        elif len(layers) == 1:
            with mp.workdps(CHECK_DPS):
                s = layer_scale(layers[0], mpf(y0))
                w, _ = weights(layers[0])
                es = mp.fsum(bk * 2 ** k * mp.gamma(mpf(kk) / 2 + k) / mp.gamma(mpf(kk) / 2) for kk, bk in w.items())
                err = float(rel(s ** k * es, val))
            chk_note = "gamma_form"
        elif len(layers) == 2:
            with mp.workdps(CHECK_DPS):
                inner, _ = nested_2(layers, y0, None, "cdf_cont", moment=k)
                w, _ = weights(layers[1])
                es = mp.fsum(bk * 2 ** k * mp.gamma(mpf(kk) / 2 + k) / mp.gamma(mpf(kk) / 2) for kk, bk in w.items())
                err = float(rel(inner * es, val))
            chk_note = "nested_quadrature"
        else:
            with mp.workdps(60):
                m = [mpf(1)] + [mpf(y0) ** j for j in range(1, 7)]
                for l in layers:
                    w_, b_ = mpf(l["sigma_w2"]), mpf(l["sigma_b2"])
                    wts, b0 = weights(l)
                    es = [mpf(1)] + [mp.fsum(bk * mp.fprod(kk + 2 * j for j in range(q)) for kk, bk in wts.items())
                                     for q in range(1, 7)]
                    m = [mpf(1)] + [es[q] * mp.fsum(comb(q, j) * w_ ** j * b_ ** (q - j) * m[j] for j in range(q + 1))
                                    for q in range(1, 7)]
                err = float(rel(m[k], val))
            chk_note = "float_recursion_dps60"
        out.append(dict(group=group, layers=layers, y0=y0, quantity="log_moment", k=k,
                        value=mp.nstr(val, 25, min_fixed=1, max_fixed=0), log10=float(mp.log10(val)),
                        route="exact_rational_recursion", err_est=max(err, 1e-40), check=chk_note))
    return out


def compress_layers(layers):
    """[[width, sigma_w2, sigma_b2, activation, repeat], ...] run-length form for the json."""
    out = []
    for l in layers:
        row = [l["width"], l["sigma_w2"], l["sigma_b2"], l["activation"]]
        if out and out[-1][:4] == row:
            out[-1][4] += 1
        else:
            out.append(row + [1])
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "data",
                                                  "reference_tails.json"))
    a = ap.parse_args(argv)
    tasks = []
    zb = zero_bias_networks()
    bn = bias_networks()
    mn = moment_networks()
    if a.quick:
        zb = [zb[0], zb[2]]
        bn = [bn[2]]
        mn = [mn[0], mn[-7]]
    tasks += [(job_zero_bias, x) for x in zb]
    tasks += [(job_bias, x) for x in bn]
    tasks += [(job_moments, x) for x in mn]
    slow = lambda task: -(max(l["width"] for l in task[1][1]) * len(task[1][1]) ** 0.5
                          + (100 if task[0] is job_bias and len(task[1][1]) == 2 else 0)
                          + (1000 if task[0] is job_moments and len(task[1][1]) >= 1000 else 0))
    tasks.sort(key=slow)
    t0 = time.time()
    if a.jobs > 1:
        import multiprocessing as mpr
        with mpr.Pool(a.jobs) as pool:
            results = pool.map(_run, tasks, chunksize=1)
    else:
        results = [_run(x) for x in tasks]
    failed = [c["group"] for r in results for c in r if c.get("failed")]
    cases = [c for r in results for c in r if not c.get("failed")]
    for i, c in enumerate(cases):
        c["id"] = f"{i:03d}_{c['group']}_{c['quantity']}"
        c["layers"] = compress_layers(c["layers"])
    elapsed = time.time() - t0
    # summary of the checks
    worst = {}
    for c in cases:
        g = c["group"]
        e = [c["err_est"]] + ([c["route_b_rel"]] if c.get("route_b_rel") is not None else [])
        e += [c["mellin_moment_check_rel"]] if "mellin_moment_check_rel" in c else []
        worst[g] = max(worst.get(g, 0.0), max(e))
    print(f"{len(cases)} cases in {elapsed:.0f} s")
    for g, e in sorted(worst.items()):
        n = sum(1 for c in cases if c["group"] == g)
        print(f"  {g:22s} {n:4d} cases  worst relative difference between routes {e:.2e}")
    worst_all = max(worst.values())
    ok = worst_all < 1e-12 and not failed
    if failed:
        print("FAILED jobs:", failed)
    print("ALL ROUTES AGREE to < 1e-12 relative" if ok else f"ROUTES DISAGREE: worst {worst_all:.2e}")
    if a.quick:
        for c in cases:
            print(c["id"], c["t"] if "t" in c else c["k"], c["value"], c["err_est"], c.get("route_b_rel"))
        return 0 if ok else 1
    header = dict(
        generated_by="PYTHONPATH=. python validation/reference_tails.py",
        description=("Far-tail reference values of the law of z_L = |x^(L)|^2 (zero-bias: Mellin-Barnes on the "
                     "saddle contour, route A; bias: nested quadrature) and exact integer moments. "
                     "quantity cdf_cont = P(0 < z_L <= t), sf = P(z_L > t), log_moment = E[z_L^k] "
                     "(value is the moment itself, log10 its base-10 log). layers: run-length "
                     "[width, sigma_w2, sigma_b2, activation, repeat]. err_est: relative difference to the "
                     "check route; route_b_rel: relative difference to the independent route B "
                     "(closed form L=1, nested quadrature L=2)."),
        mpmath_dps=DPS, check_dps=CHECK_DPS, mpmath_version=mpmath.__version__,
        elapsed_s=round(elapsed), worst_route_difference=worst_all)
    with open(a.out, "w") as fh:
        json.dump(dict(header=header, cases=cases), fh, indent=0, separators=(",", ":"))
        fh.write("\n")
    print("wrote", os.path.abspath(a.out))
    return 0 if ok else 1


def _run(task):
    fn, arg = task
    t = time.time()
    try:
        r = fn(arg)
    except Exception as exc:  # noqa: BLE001 - report and go on: one bad job must not lose the others
        import traceback
        traceback.print_exc()
        print(f"  FAILED {fn.__name__} {arg[0]} L={len(arg[1])} y0={arg[2]:.0e}: {exc!r}", flush=True)
        return [dict(failed=True, group=arg[0])]
    print(f"  {fn.__name__} {arg[0]} L={len(arg[1])} y0={arg[2]:.0e}: {len(r)} cases, {time.time() - t:.1f} s",
          flush=True)
    return r


if __name__ == "__main__":
    sys.exit(main())
