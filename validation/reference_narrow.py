"""A second, independent route to the law of z = sum_{i <= N} phi(h_i)^2 for NARROW layers (issue 14).

    PYTHONPATH=. python validation/reference_narrow.py --check erf_N10_b0_L1 gelu_N10_b0_L1

(the check recomputes stored N = 10 cases of tests/data/reference_smooth.json by this route and prints
max |difference|).  validation/reference_smooth.py uses this route for widths N < 10, where its
Gil-Pelaez route cannot reach 1e-11 (power singularities of one unit's density make |psi_X(t)|^N decay
only algebraically).  This module does NOT import sigdist.

Convolution of CDFs in h-space.  With X = phi(h)^2, h ~ N(0, s), rho_s its density and F_k the CDF of
X_1 + ... + X_k,

    F_1(x) = Gaussian mass of {h : phi(h)^2 <= x}      (exact: preimages by closed form / bisection),
    F_k(x) = int F_{k-1}(x - phi(h)^2) rho_s(h) dh,     k = 2..N.

The singular points of F_k are the sums of critical values of phi^2: {0, c, .., k c} with c = (min phi)^2
for gelu and silu, {0, 1, .., k} for erf (1 = sup erf^2).  In h the integrand is analytic except where
x - phi(h)^2 hits a singular point of F_{k-1}; the h-axis is cut at those preimages, at the critical
points of phi^2 and at +-H (Gaussian mass beyond: < 1e-19), and every piece is integrated by the
tanh-sinh rule (which converges exponentially with algebraic endpoint singularities).  F_1 is used
exactly for erf; F_k (and F_1 for gelu/silu) are tabulated on panels graded geometrically (ratio r)
towards every singular point down to a relative distance 1e-16 (1e-30 at x = 0), each panel interpolated
by a Chebyshev polynomial through its Chebyshev-Lobatto nodes; a panel whose last two Chebyshev
coefficients exceed the tolerance is split, and the interpolation error is finally measured on points
between the nodes ('interp_check').  F_N itself is evaluated directly at the requested points.

Two layers: F(x) = int G(x | s(y)) dF_1(y) with G(. | s) the one-layer CDF given s and F_1 the first
layer's CDF (tabulated as above).  G is interpolated in y by Chebyshev panels (graded towards y = 0),
and the Stieltjes integral is done by parts on F_1's own panels (Gauss-Legendre):
F(x) = G(x | s(b)) F_1(b) - G(x | s(a)) F_1(a) - int_a^b dG/dy F_1(y) dy.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import pathlib
import sys
import time

import numpy as np
from scipy import optimize, special, stats

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "reference_smooth.json"
SQ2PI = math.sqrt(2.0 * math.pi)


def _gelu(h):
    return h * special.ndtr(h)


def _dgelu(h):
    return special.ndtr(h) + h * np.exp(-0.5 * h * h) / SQ2PI


def _silu(h):
    return h * special.expit(h)


def _dsilu(h):
    e = special.expit(h)
    return e + h * e * (1.0 - e)


class Act:
    """phi, X = phi^2, its critical value c and the preimages of X."""

    def __init__(self, name):
        self.name = name
        if name == "erf":
            self.phi, self.c, self.hstar, self.hlow = special.erf, 1.0, None, None
        elif name in ("gelu", "silu"):
            self.phi, d = (_gelu, _dgelu) if name == "gelu" else (_silu, _dsilu)
            self.hstar = optimize.brentq(d, -3.0, -0.1, xtol=1e-300, rtol=1e-15)
            self.c = float(self.phi(self.hstar) ** 2)
            self.hlow = -60.0 if name == "gelu" else -800.0  # phi(hlow) underflows to 0
        else:
            raise ValueError(f"activation must be erf, gelu or silu, got {name!r}")

    def X(self, h):
        return self.phi(h) ** 2

    def _bisect(self, target, lo, hi, iters):
        """h in [lo, hi] with phi(h) = target, phi monotone on [lo, hi]."""
        lo, hi = np.array(lo, float), np.array(hi, float)
        up = self.phi(hi) > self.phi(lo)
        for _ in range(iters):
            mid = 0.5 * (lo + hi)
            below = (self.phi(mid) < target) == up
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        return 0.5 * (lo + hi)

    def preimages(self, v):
        """(len(v), 3): the h with phi(h)^2 = v (nan where there is none), for v >= 0."""
        v = np.asarray(v, float)
        out = np.full((len(v), 3), np.nan)
        ok = v >= 0.0
        if self.name == "erf":
            m = ok & (v < 1.0)
            r = np.sqrt(v[m])
            big = r > 0.5
            root = np.empty(len(r))
            root[~big] = special.erfinv(r[~big])
            root[big] = special.erfcinv((1.0 - v[m][big]) / (1.0 + r[big]))
            out[m, 0], out[m, 1] = -root, root
            return out
        q = np.sqrt(np.where(ok, v, 0.0))
        # right branch: h/2 <= phi(h) <= h for h >= 0
        out[ok, 2] = self._bisect(q[ok], q[ok], 2.0 * q[ok], 64)
        m = ok & (v < self.c)
        if m.any():
            n = int(m.sum())
            out[m, 0] = self._bisect(-q[m], np.full(n, self.hlow), np.full(n, self.hstar), 120)
            out[m, 1] = self._bisect(-q[m], np.full(n, self.hstar), np.zeros(n), 64)
        return out

    def unit_cdf(self, s, v):
        """F_1(v) = P(phi(h)^2 <= v), h ~ N(0, s), exactly."""
        v = np.asarray(v, float)
        F = np.zeros(len(v))
        pos = v > 0
        if self.name == "erf":
            F[v >= 1.0] = 1.0
            m = pos & (v < 1.0)
            r = self.preimages(v[m])[:, 1]
            F[m] = special.erf(r / math.sqrt(2.0 * s))
            return F
        P = self.preimages(v[pos])
        rs = 1.0 / math.sqrt(s)
        val = special.ndtr(P[:, 2] * rs)
        two = ~np.isnan(P[:, 0])
        val[two] += special.ndtr(P[two, 0] * rs) - special.ndtr(P[two, 1] * rs)
        F[pos] = val
        return F


# ------------------------------------------------------------------ Chebyshev panel tables

@functools.lru_cache(maxsize=None)
def _cheb(n):
    """Chebyshev-Lobatto points on [-1, 1] (n + 1, descending) and the values -> coefficients matrix."""
    j = np.arange(n + 1)
    t = np.cos(math.pi * j / n)
    C = np.cos(math.pi * np.outer(j, j) / n) * (2.0 / n)
    C[:, 0] *= 0.5
    C[:, -1] *= 0.5
    C[0, :] *= 0.5
    C[-1, :] *= 0.5
    return t, C


def _clenshaw(coef, t):
    """sum_k coef[:, k] T_k(t) row-wise."""
    b1 = np.zeros(len(t))
    b2 = np.zeros(len(t))
    for k in range(coef.shape[1] - 1, 0, -1):
        b1, b2 = coef[:, k] + 2.0 * t * b1 - b2, b1
    return coef[:, 0] + t * b1 - b2


class Tab:
    """A CDF tabulated on Chebyshev panels: 0 below edges[0], `top` above edges[-1]."""

    def __init__(self, fn, edges, deg=16, tol=1e-14, rounds=8, top=1.0):
        self.deg, self.top = deg, top
        t, C = _cheb(deg)
        edges = np.asarray(edges, float)
        a, b = edges[:-1], edges[1:]
        parent = np.full(len(a), np.inf)
        done = []
        self.evals = 0
        for rnd in range(rounds + 1):
            x = (0.5 * (a + b)[:, None] + 0.5 * (b - a)[:, None] * t[None, :])
            vals = fn(x.ravel()).reshape(x.shape)
            self.evals += x.size
            coef = vals @ C.T
            err = np.abs(coef[:, -1]) + np.abs(coef[:, -2])
            # split while the tail exceeds tol and halving still helps (else: rounding noise of fn)
            bad = ((err > tol) & (err < 0.5 * parent) & (b - a > 1e-13 * np.maximum(1.0, np.abs(a)))
                   & (rnd < rounds))
            for i in np.nonzero(~bad)[0]:
                done.append((a[i], b[i], coef[i]))
            if not bad.any():
                break
            m = 0.5 * (a[bad] + b[bad])
            a, b = np.concatenate([a[bad], m]), np.concatenate([m, b[bad]])
            parent = np.concatenate([err[bad], err[bad]])
        done.sort(key=lambda p: p[0])
        self.a = np.array([p[0] for p in done])
        self.b = np.array([p[1] for p in done])
        self.coef = np.array([p[2] for p in done])
        self.lo, self.hi = self.a[0], self.b[-1]

    def __call__(self, y, chunk=400000):
        y = np.asarray(y, float)
        out = np.where(y >= self.hi, self.top, 0.0)
        m = np.nonzero((y > self.lo) & (y < self.hi))[0]
        for i in range(0, len(m), chunk):
            j = m[i:i + chunk]
            k = np.clip(np.searchsorted(self.a, y[j], side="right") - 1, 0, len(self.a) - 1)
            a, b = self.a[k], self.b[k]
            tt = np.clip((2.0 * y[j] - a - b) / (b - a), -1.0, 1.0)
            out[j] = _clenshaw(self.coef[k], tt)
        return out

    def check(self, fn, per_panel=3, wmin=1e-11):
        """max |table - fn| on points between the Lobatto nodes of every panel wider than wmin (relative;
        the narrower ones, next to a singular point, hold x-intervals of width < 1e-11 in all, which the
        next convolution weights by their Gaussian h-measure)."""
        n = self.deg
        jj = np.linspace(0, n - 1, per_panel).round() + 0.5
        t = np.cos(math.pi * jj / n)
        m = self.b - self.a > wmin * np.maximum(1.0, np.abs(self.a))
        a, b = self.a[m], self.b[m]
        x = (0.5 * (a + b)[:, None] + 0.5 * (b - a)[:, None] * t[None, :]).ravel()
        return float(np.max(np.abs(self(x) - fn(x))))


def graded_edges(points, xmax, r=0.5, wmax=0.5, dmin=1e-16, dmin0=1e-30):
    """panel edges on [0, xmax], graded geometrically (ratio r) towards every singular point."""
    pts = sorted(set([p for p in points if 0.0 <= p < xmax] + [xmax]))
    edges = [pts[0]]
    for i, (p, q) in enumerate(zip(pts[:-1], pts[1:])):
        ell = q - p
        right_sing = i + 1 < len(pts) - 1 or q in points
        d = min(0.5 * ell if right_sing else ell, wmax)
        dl = dmin0 if p == 0.0 else dmin * max(1.0, p)
        left = [p + d * r ** j for j in range(int(math.log(dl / d) / math.log(r)) + 2)][::-1]
        dr = dmin * max(1.0, q)
        right = [q - d * r ** j for j in range(int(math.log(dr / d) / math.log(r)) + 2)] if right_sing else [q]
        lo_end, hi_end = left[-1], right[-1] if right_sing else q
        nfill = max(1, int(math.ceil((hi_end - lo_end) / wmax))) if hi_end > lo_end else 0
        fill = list(np.linspace(lo_end, hi_end, nfill + 1)[1:-1]) if nfill else []
        edges += left + fill + (right[::-1] if right_sing else []) + [q]
    e = np.unique(np.array(edges))
    return e


# ------------------------------------------------------------------ the h-space convolution

@functools.lru_cache(maxsize=None)
def _tanh_sinh(step, tmax=3.3):
    k = np.arange(-int(math.ceil(tmax / step)), int(math.ceil(tmax / step)) + 1)
    t = k * step
    z = 0.5 * math.pi * np.sinh(t)
    alpha = 1.0 / (1.0 + np.exp(-2.0 * z))  # (1 + tanh z) / 2
    beta = 1.0 / (1.0 + np.exp(2.0 * z))  # (1 - tanh z) / 2
    w = step * 0.5 * math.pi * np.cosh(t) / np.cosh(z) ** 2 * 0.5
    return alpha, beta, w


class Narrow:
    """F_k(. | s) for k = 1..N by h-space convolution, for one activation and one s."""

    def __init__(self, act, s, N, refine=1.0):
        self.act = act if isinstance(act, Act) else Act(act)
        self.s, self.N, self.refine = s, N, refine
        self.H = math.sqrt(2.0 * s * 44.0)  # Gaussian mass beyond +-H: < 1e-19
        self.tail = float(2.0 * special.ndtr(-self.H / math.sqrt(s)))
        self.step = 1.0 / (6.0 * refine)
        self.deg = int(round(16 * refine))
        self.r = 0.5 ** refine
        self.tol = 1e-14 / refine ** 2
        # extra cuts keep every piece shorter than ~ sqrt(s) / 2 (tanh-sinh is sparse mid-piece)
        grid = math.sqrt(s) * np.concatenate([np.arange(0.5, 3.0, 0.5), np.arange(3.0, 9.5, 1.0)])
        self.fixed = [0.0] + list(grid) + list(-grid) + ([self.act.hstar] if self.act.hstar is not None else [])
        self.tabs = {}
        self.checks = {}
        self.evals = 0

    def xmax(self, k):
        if self.act.name == "erf":
            return float(k)
        return float(self.s * stats.chi2.isf(1e-21, k))  # phi(h)^2 <= h^2

    def sing(self, k):
        return [j * self.act.c for j in range(k + 1) if j * self.act.c <= self.xmax(k)]

    def F(self, k, x):
        """F_k(x) (exact for k = 1 with erf; a table otherwise, built on first use)."""
        if k == 1 and self.act.name == "erf":
            return self.act.unit_cdf(self.s, x)
        if k not in self.tabs:
            fn = self._direct(k)
            # (erf: the grading from x = 0 resolves the small scale ~ s of a small s)
            wmax = 0.5 if self.act.name == "erf" else 0.5 * self.s
            # near x = 0: F_k ~ x^(k / 2) for erf; ~ x^(k / (2s)) (with logs) for gelu and silu
            d0 = 1e-16 if self.act.name == "erf" else 1e-30
            e = graded_edges(self.sing(k), self.xmax(k), r=self.r, wmax=wmax, dmin0=d0)
            tab = Tab(fn, e, deg=self.deg, tol=self.tol)
            self.checks[k] = tab.check(fn)
            self.evals += tab.evals
            self.tabs[k] = tab
        return self.tabs[k](x)

    def _direct(self, k):
        if k == 1:
            return lambda x: self.act.unit_cdf(self.s, x)
        return lambda x: self.conv(k, x)

    def conv(self, k, x):
        """F_k(x) = int F_{k-1}(x - phi(h)^2) rho_s(h) dh by tanh-sinh on the pieces."""
        x = np.asarray(x, float)
        out = np.zeros(len(x))
        P = np.array(self.sing(k - 1))
        H = self.H
        step = max(1, 20000 // (len(P) + 2))
        for i in range(0, len(x), step):
            xx = x[i:i + step]
            out[i:i + step] = self._conv_chunk(k, xx, P, H)
        return out

    def _conv_chunk(self, k, x, P, H):
        n = len(x)
        v = x[:, None] - P[None, :]
        roots = self.act.preimages(v.ravel()).reshape(n, -1)
        fixed = np.broadcast_to(np.array([-H, H] + self.fixed), (n, 2 + len(self.fixed)))
        B = np.concatenate([roots, fixed], axis=1)
        B = np.where(np.isnan(B), H, np.clip(B, -H, H))
        B.sort(axis=1)
        a, b = B[:, :-1], B[:, 1:]
        row, col = np.nonzero(b > a)
        a, b = a[row, col], b[row, col]
        # no piece holds a breakpoint: where x - X < 0 at its middle, F_{k-1} = 0 on all of it; for erf,
        # where x - X >= k - 1 (= P[-1], the end of F_{k-1}'s support), F_{k-1} = 1: Gaussian mass
        ymid = x[row] - self.act.X(0.5 * (a + b))
        out = np.zeros(n)
        if self.act.name == "erf":
            one = ymid >= P[-1]
            rs = 1.0 / math.sqrt(self.s)
            out += np.bincount(row[one], weights=special.ndtr(b[one] * rs) - special.ndtr(a[one] * rs),
                               minlength=n)
            keep = (ymid > 0.0) & ~one
        else:
            keep = ymid > 0.0
        row, a, b = row[keep], a[keep], b[keep]
        alpha, beta, w = _tanh_sinh(self.step)
        L = (b - a)[:, None]
        left = alpha[None, :] <= 0.5
        h = np.where(left, a[:, None] + L * alpha[None, :], b[:, None] - L * beta[None, :])
        W = L * w[None, :] * np.exp(-h * h / (2.0 * self.s)) / math.sqrt(2.0 * math.pi * self.s)
        y = x[row][:, None] - self.act.X(h)
        Fy = self.F(k - 1, y.ravel()).reshape(y.shape)
        return out + np.bincount(row, weights=(W * Fy).sum(1), minlength=n)

    def cdf(self, x):
        """F_N at x (evaluated directly from the table of F_{N-1})."""
        x = np.asarray(x, float)
        if self.N == 1:
            return self.F(1, x)
        return self.conv(self.N, x)

    def accuracy_terms(self):
        # F_N's error from the tables is at most the sum of their errors (each convolution weighs by <= 1)
        return {"tail_bound": self.tail, "interp_check": float(sum(self.checks.values()))}


# ------------------------------------------------------------------ check against stored N = 10 cases

def one_layer_cdf(act, N, s, x, refine=1.0):
    """(F, info) of one layer of width N given s, at x."""
    nr = Narrow(act, s, N, refine)
    F = nr.cdf(x)
    return F, nr


def check_stored(names, refine=1.0):
    cases = json.loads(DATA.read_text())["cases"]
    worst = 0.0
    for name in names:
        c = cases[name]
        if len(c["layers"]) != 1:
            raise ValueError(f"--check takes one-layer cases, got {name}")
        N, sw2, sb2 = c["layers"][0]
        t0 = time.time()
        F, nr = one_layer_cdf(c["activation"], N, sw2 * c["y0"] + sb2, np.array(c["x"]), refine)
        d = float(np.max(np.abs(F - np.array(c["cdf"]))))
        worst = max(worst, d)
        print(f"{name:24s} max |F_narrow - F_stored| = {d:.1e} (stored accuracy {c['accuracy']:.1e}; "
              f"interp check {nr.accuracy_terms()['interp_check']:.1e}; {time.time() - t0:.1f} s)", flush=True)
    return worst


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", nargs="+", required=True, help="stored one-layer case names")
    ap.add_argument("--refine", type=float, default=1.0)
    a = ap.parse_args(argv)
    worst = check_stored(a.check, a.refine)
    return 0 if worst < 1e-10 else 1


if __name__ == "__main__":
    sys.exit(main())


def narrow_cdf(act, layers, y0, x, refine=1.0, info=None):
    """(F, S) of z_L at x by h-space convolution; layers = [(N, sw2, sb2), ...] (L = 1 or 2)."""
    info = info if info is not None else {}
    x = np.asarray(x, float)
    N, sw2, sb2 = layers[0]
    if len(layers) == 1:
        nr = Narrow(act, sw2 * y0 + sb2, N, refine)
        F = nr.cdf(x)
        _note(info, nr)
        return F, 1.0 - F
    if len(layers) == 2:
        return two_layer_cdf(act, layers, y0, x, refine, info)
    raise ValueError(f"the narrow route does 1 or 2 layers, got {len(layers)}")


def _note(info, nr):
    t = nr.accuracy_terms()
    info["tail"] = max(info.get("tail", 0.0), t["tail_bound"])
    info["interp_check"] = max(info.get("interp_check", 0.0), t["interp_check"])


def two_layer_cdf(act, layers, y0, x, refine=1.0, info=None, progress=False):
    """(F, S) of z_2 at x: F(x) = int G(x | s(y)) dF_1(y), G interpolated in u = log s.

    By parts on [y_c, b]: F(x) = F_1(y_c) (1 - G(x | s(y_c))) + G(x | s(b)) F_1(b)
    - int_{y_c}^b dG/dy F_1(y) dy, G = 1 below y_c (where P(z > x | s) <= P(chi2_N > x / (c^2 s))
    < 1e-17 for every x), b where S_1(b) < 1e-17.  G(x | s) is a Chebyshev series in u on panels
    (17 Lobatto nodes at refine 1) of length <= 0.8, split while its last two coefficients exceed 3e-13
    for some x."""
    info = info if info is not None else {}
    x = np.asarray(x, float)
    (N1, sw1, sb1), (N2, sw2, sb2) = layers
    first = Narrow(act, sw1 * y0 + sb1, N1, refine)
    first.F(N1, np.array([0.0]))
    T1 = first.tabs[N1]
    _note(info, first)
    S_edges = 1.0 - T1(T1.b)
    b = float(T1.b[np.argmax(S_edges < 1e-17)]) if np.any(S_edges < 1e-17) else float(T1.hi)
    lip2 = 4.0 / math.pi if act == "erf" else 1.0
    s_c = max(float(np.min(x[x > 0])), 1e-300) / (lip2 * stats.chi2.isf(1e-17, N2))
    s_lo = max(sb2, s_c)
    y_c = max(0.0, (s_lo - sb2) / sw2)
    s_hi = sw2 * b + sb2
    deg = int(round(16 * refine))
    t, C = _cheb(deg)
    ue = np.linspace(math.log(s_lo), math.log(s_hi), max(2, int(math.ceil((math.log(s_hi / s_lo)) / 0.8))) + 1)
    ua, ub = ue[:-1], ue[1:]
    cache = {}

    def G_at(s):
        if s not in cache:
            nr = Narrow(act, s, N2, refine)
            cache[s] = nr.cdf(x)
            _note(info, nr)
        return cache[s]

    done, rounds, t0 = [], 0, time.time()
    while len(ua):
        keep_a, keep_b = [], []
        for lo, hi in zip(ua, ub):
            us = 0.5 * (lo + hi) + 0.5 * (hi - lo) * t
            V = np.array([G_at(float(math.exp(u))) for u in us])  # (deg + 1, n_x)
            coef = C @ V  # (deg + 1, n_x): coefficients along axis 0
            err = float(np.max(np.abs(coef[-1]) + np.abs(coef[-2])))
            if err > 3e-13 and rounds < 3:
                m = 0.5 * (lo + hi)
                keep_a += [lo, m]
                keep_b += [m, hi]
            else:
                done.append((lo, hi, coef, err))
            if progress:
                print(f"  u-panel [{lo:.2f}, {hi:.2f}] tail {err:.1e}  ({len(cache)} chains, "
                      f"{time.time() - t0:.0f} s)", flush=True)
        ua, ub = np.array(keep_a), np.array(keep_b)
        rounds += 1
    done.sort(key=lambda p: p[0])
    pa = np.array([p[0] for p in done])
    pb = np.array([p[1] for p in done])
    info["interp_check"] = info.get("interp_check", 0.0) + max(p[3] for p in done)
    info["chains"] = len(cache)

    def G_and_dG(s):
        """G(x | s) and dG/du at the array s: (len(s), n_x) each."""
        u = np.log(s)
        k = np.clip(np.searchsorted(pa, u, side="right") - 1, 0, len(pa) - 1)
        tt = np.clip((2.0 * u - pa[k] - pb[k]) / (pb[k] - pa[k]), -1.0, 1.0)
        G = np.empty((len(s), len(x)))
        dG = np.empty((len(s), len(x)))
        for j in np.unique(k):
            m = k == j
            coef = done[j][2]
            G[m] = np.polynomial.chebyshev.chebval(tt[m], coef).T
            dc = np.polynomial.chebyshev.chebder(coef, axis=0)
            dG[m] = np.polynomial.chebyshev.chebval(tt[m], dc).T * 2.0 / (pb[j] - pa[j])
        return G, dG

    # y-quadrature on the first layer's table panels inside [y_c, b] (20-point Gauss-Legendre)
    U, W = np.polynomial.legendre.leggauss(20)
    ea = np.clip(T1.a, y_c, b)
    eb = np.clip(T1.b, y_c, b)
    m = eb > ea
    ea, eb = ea[m], eb[m]
    Y = (0.5 * (ea + eb)[:, None] + 0.5 * (eb - ea)[:, None] * U[None, :]).ravel()
    WY = (0.5 * (eb - ea)[:, None] * W[None, :]).ravel()
    F1 = T1(Y)
    s = sw2 * Y + sb2
    _, dG = G_and_dG(s)
    integral = (WY * F1 * sw2 / s) @ dG  # dG/dy = dG/du * sw2 / s
    Gb, _ = G_and_dG(np.array([s_hi]))
    Gc, _ = G_and_dG(np.array([s_lo]))
    F1c = float(T1(np.array([y_c]))[0]) if y_c > 0 else 0.0
    F1b = float(T1(np.array([b]))[0])
    F = F1c * (1.0 - Gc[0]) + Gb[0] * F1b - integral
    info["tail"] = max(info.get("tail", 0.0), 1e-17 + (1.0 - F1b))
    # moment quadrature nodes (reference_smooth.moments: E g(z_1) = g(lo) + int g' S_1 dy)
    lo = float(T1.b[0])
    ea, eb = np.clip(T1.a, lo, b), np.clip(T1.b, lo, b)
    m = eb > ea
    ea, eb = ea[m], eb[m]
    Ym = (0.5 * (ea + eb)[:, None] + 0.5 * (eb - ea)[:, None] * U[None, :]).ravel()
    Wm = (0.5 * (eb - ea)[:, None] * W[None, :]).ravel()
    info["top"] = (Ym, Wm, 1.0 - T1(Ym), lo, sw2, sb2, N2)
    return F, 1.0 - F
