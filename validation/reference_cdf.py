"""Independent high-precision reference values for the law of the squared signal
norm z_L of a random ReLU network.

Regenerate with (from the repository root):

    /path/to/python validation/reference_cdf.py            # writes tests/data/reference_cdf.json
    /path/to/python validation/reference_cdf.py --jobs 1    # single process

This script deliberately does NOT import anything from ``sigdist``; it works only
from the mathematical definition of the model.

Model
-----
z_0 = y0 > 0.  For l = 1..L with parameters (N_l, sw2_l, sb2_l):

    s_l = sw2_l * z_{l-1} + sb2_l,      K_l ~ Binomial(N_l, 1/2),
    z_l = s_l * C_l,                    C_l | K_l = k ~ chi^2_k   (C_l = 0 iff k = 0),

all K_l, C_l independent.  Write b_k = C(N,k) 2^-N and, for k >= 1,
w_k = b_k / (1 - 2^-N) (the law of K given K >= 1).

Moments (exact rational recursion, parameters taken as the exact binary values
of the floats stored in the json):  E[C|K=k] = k, E[C^2|K=k] = k^2 + 2k, so
E[C] = N/2, E[C^2] = E[K^2] + 2E[K] = N/4 + N^2/4 + N = N(N+5)/4 and

    E[z_l]   = (sw2 E[z_{l-1}] + sb2) N/2,
    E[z_l^2] = (sw2^2 E[z_{l-1}^2] + 2 sw2 sb2 E[z_{l-1}] + sb2^2) N(N+5)/4.

Zero-bias networks: Gil-Pelaez inversion
-----------------------------------------
If every sb2_l = 0 then z_L = y0 prod_l sw2_l C_l, so P(z_L = 0) = 1 - prod(1-2^-N_l)
and, given z_L > 0 (all K_l >= 1), Y = log z_L = c0 + sum_l log C_l with
c0 = log y0 + sum log sw2_l and independent log C_l | K_l >= 1 having characteristic
function (Mellin transform of chi^2_k)

    phi_l(t) = 2^{it} sum_{k>=1} w_k r_k(t),   r_k(t) = Gamma(k/2+it)/Gamma(k/2).

r_k is evaluated with mpmath.loggamma for the two smallest retained k and then by
the exact recursion r_{k+2} = r_k (1 + 2it/k).  Weights w_k < 1e-45 are dropped
(their total mass enters the error bound).  With mu = E[Y] (centering only) and
psi(t) = e^{-it mu} phi_Y(t), Gil-Pelaez gives for u = log x

    F(u) = P(Y <= u) = 1/2 - (1/pi) int_0^inf Im[e^{-it(u-mu)} psi(t)] / t dt,
    cdf(x) = atom + (1-atom) F(u),   sf(x) = (1-atom) (1 - F(u)).

Truncation at T: |Gamma(a+it)|^2 = Gamma(a)^2 prod_{n>=0} (1 + t^2/(a+n)^2)^{-1},
so |r_k(t)| decreases in t and, keeping only the n=0 factor, for t >= T
|r_k(t)| <= |r_k(T)| sqrt((a^2+T^2)/(a^2+t^2)) with a = k/2 <= A = max N_l/2
(the right side is increasing in a).  Hence with M(T) = prod_l sum_k w_k |r_k(T)|,

    (1/pi) int_T^inf |phi(t)|/t dt <= M(T)/pi * sqrt(A^2+T^2)/A * asinh(A/T),

and T is chosen so that this is < ~1e-27.  [0, T] is split into panels of width h
and integrated with n=24 point Gauss-Legendre (nodes polished to full mp
precision); the integrand is analytic in the strip |Im t| < kmin/2 (kmin = smallest
retained k), h = min(0.4 kmin, 2, 6/(max|u-mu|+1)).  psi is computed once per node
(it does not depend on x), so every x costs only one weighted sum.  The quadrature
error is estimated by repeating with h/2 (|coarse - fine|, a conservative bound
for the fine rule, which is the one reported).  mp.dps = 32 throughout.

Networks with bias: nested quadrature (2 layers)
------------------------------------------------
s_1 = sw2_1 y0 + sb2_1 is a constant; z_1 = s_1 C_1; s_2 = sw2_2 z_1 + sb2_2.
With G(t) = P(C_2 <= t) = b_0 + sum_{k>=1} b_k P(k/2, t/2) (regularized lower
incomplete gamma) and Gbar = 1 - G = sum_{k>=1} b_k Q(k/2, t/2):

    cdf(x) = b_0^(1) G(x/sb2_2) + int_0^inf f_{C_1}(c) G(x/(sw2_2 s_1 c + sb2_2)) dc,
    sf(x)  = b_0^(1) Gbar(x/sb2_2) + int_0^inf f_{C_1}(c) Gbar(...) dc

(for sb2_2 = 0 the atom term is b_0^(1) * 1 and 0 respectively).  The outer
variable is v = sqrt(c), which makes the chi^2 mixture density analytic:
2v chi2pdf_k(v^2) = q_k(v), q_1 = sqrt(2/pi) e^{-v^2/2}, q_2 = v e^{-v^2/2},
q_{k+2} = q_k v^2/k.  P and Q are computed by the exact recursions
P(a+1,y) = P(a,y) - y^a e^{-y}/Gamma(a+1), Q(a+1,y) = Q(a,y) + y^a e^{-y}/Gamma(a+1)
from P(1/2,y) = erf(sqrt y), P(1,y) = 1-e^{-y} (absolute error ~1e-30 at dps 32).
[0, V] (P(chi2_{N_1} > V^2) < 1e-34 bounds the neglected tail) is split into
Gauss-Legendre panels of width h (geometrically graded towards v=0 when
sb2_2 = 0, where the integrand has an essential singularity); error estimated by
halving h.  cdf and sf are computed as two separate integrals, so cdf + sf = 1 is a
genuine check of the quadrature.

Self-checks (printed and stored under "checks")
  1. single layer: Gil-Pelaez vs the direct mixture  b_0 + sum_k b_k gammainc(k/2, x/(2s))
     (mpmath.gammainc, no recursion).
  2. two-layer sb2 = 0 networks: Gil-Pelaez vs nested quadrature.
  3. cdf + sf = 1 (trivial for Gil-Pelaez, a real check for nested quadrature).
  4. bias cases: nested quadrature vs the reverse-order integral
     P(z_2 <= x) = b_0^(2) + int_0^{x/sb2_2} f_{C_2}(c) P(z_1 <= (x/c - sb2_2)/sw2_2) dc
     done with mpmath.quad (tanh-sinh) and its own error estimate.
  5. Monte Carlo sanity check (2e6 samples) of cdf at all x, in units of the MC
     standard error (guards against modelling / sign-convention mistakes).

x points per case: from mu, sigma of log z_L (conditional on z_L > 0) a float64
version of the same method locates the points where cdf - atom = 1e-7, ..., 0.25 and
sf = 0.25, ..., 1e-9, plus 21 points exp(mu + sigma*j/5), j = -10..10.  They are
rounded to 6 significant digits; all reference values are for the stored floats.
"""
import argparse
import json
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from fractions import Fraction

import mpmath as mp
import numpy as np
from scipy import optimize, special as sps

DPS = 32
mp.mp.dps = DPS
mpf, mpc = mp.mpf, mp.mpc

WCUT = 1e-45          # binomial weights below this are dropped (mass goes into the bound)
CF_EPS = 1e-27        # target for the Gil-Pelaez truncation bound
GL_N = 24             # Gauss-Legendre points per panel (Gil-Pelaez)
NQ_N = 20             # Gauss-Legendre points per panel (nested quadrature)

LEFT_LEVELS = [1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.05, 0.1, 0.25]
RIGHT_LEVELS = [0.25, 0.1, 0.05, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9]

CASES = {
    "he200_L9": ([(200, 2 / 200, 0.0)] * 9, 1.0),
    "alt_he_fanin": ([(30, 2 / 10, 0.0), (10, 2 / 30, 0.0), (30, 2 / 10, 0.0),
                      (10, 2 / 30, 0.0), (30, 2 / 10, 0.0)], 1.0),
    "alt_own_width": ([(10, 2 / 10, 0.0), (30, 2 / 30, 0.0), (10, 2 / 10, 0.0),
                       (30, 2 / 30, 0.0), (10, 2 / 10, 0.0), (30, 2 / 30, 0.0)], 1.0),
    "bias_N50_L2": ([(50, 1.6 / 50, 0.05)] * 2, 1.0),
    "small_N3_L3": ([(3, 1.0, 0.0)] * 3, 2.0),
    "bias_N5_L2": ([(5, 0.4, 0.1)] * 2, 0.5),
    "single_N20": ([(20, 0.1, 0.0)], 1.0),
    "he1000_L3": ([(1000, 2 / 1000, 0.0)] * 3, 1.0),
}

# two-layer zero-bias networks used for check 2 (Gil-Pelaez vs nested quadrature)
CHECK2_CASES = {
    "chk2_N5_L2": ([(5, 0.4, 0.0)] * 2, 0.5),
    "chk2_N50_L2": ([(50, 1.6 / 50, 0.0)] * 2, 1.0),
    "chk2_N3_N30": ([(3, 1.0, 0.0), (30, 2 / 30, 0.0)], 2.0),
}


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')} pid {os.getpid()}] {msg}", flush=True)


# ----------------------------------------------------------------------------- helpers
_GL_MP = {}


def gl_mp(n):
    """Gauss-Legendre nodes/weights on [-1,1] at full mp precision (Newton-polished)."""
    if n in _GL_MP:
        return _GL_MP[n]
    x0, _ = np.polynomial.legendre.leggauss(n)
    X, W = [], []

    def legendre(x):
        p0, p1 = mpf(1), x
        for j in range(2, n + 1):
            p0, p1 = p1, ((2 * j - 1) * x * p1 - (j - 1) * p0) / j
        return p1, n * (x * p1 - p0) / (x * x - 1)

    for xf in x0:
        x = mpf(xf)
        for _ in range(30):
            p, dp = legendre(x)
            dx = p / dp
            x -= dx
            if abs(dx) < mpf(2) ** (-mp.mp.prec - 8):
                break
        p, dp = legendre(x)
        X.append(x)
        W.append(2 / ((1 - x * x) * dp * dp))
    _GL_MP[n] = (X, W)
    return X, W


def panel_rule_mp(edges, n):
    X, W = gl_mp(n)
    ts, ws = [], []
    for a, b in zip(edges[:-1], edges[1:]):
        c, r = (a + b) / 2, (b - a) / 2
        for x, w in zip(X, W):
            ts.append(c + r * x)
            ws.append(r * w)
    return ts, ws


def panel_rule_float(edges, n):
    x, w = np.polynomial.legendre.leggauss(n)
    e = np.asarray([float(v) for v in edges])
    a, b = e[:-1, None], e[1:, None]
    return ((a + b) / 2 + (b - a) / 2 * x).ravel(), ((b - a) / 2 * w).ravel()


def binom_b_mp(N):
    """b_k = C(N,k) 2^-N, k = 0..N (exact integers divided by 2^N)."""
    two = mpf(2) ** N
    return [mpf(math.comb(N, k)) / two for k in range(N + 1)]


def binom_b_float(N):
    k = np.arange(N + 1)
    return np.exp(sps.gammaln(N + 1) - sps.gammaln(k + 1) - sps.gammaln(N - k + 1) - N * math.log(2))


def logC_stats(N):
    """mean, variance of log C given K >= 1 (float; used only to place points)."""
    b = binom_b_float(N)[1:]
    w = b / b.sum()
    k = np.arange(1, N + 1)
    m = math.log(2) + sps.digamma(k / 2)
    mean = float(np.sum(w * m))
    var = float(np.sum(w * (sps.polygamma(1, k / 2) + m ** 2)) - mean ** 2)
    return mean, var


def exact_moments(layers, y0):
    m1, m2 = Fraction(y0), Fraction(y0) ** 2
    for N, a, b in layers:
        a, b = Fraction(a), Fraction(b)
        m1, m2 = ((a * m1 + b) * Fraction(N, 2),
                  (a * a * m2 + 2 * a * b * m1 + b * b) * Fraction(N * (N + 5), 4))
    return m1, m2


def atom_exact(layers):
    """P(z_L = 0).  z_l = 0 iff K_l = 0 or (s_l = 0, i.e. sb2_l = 0 and z_{l-1} = 0)."""
    p0 = mpf(0)   # P(z_0 = 0)
    for N, a, b in layers:
        q = mpf(2) ** (-N)
        p0 = q + (1 - q) * p0 if b == 0 else q
    return p0


def G_PQ(b, N, t):
    """(b_0 + sum_k b_k P(k/2, t/2),  sum_k b_k Q(k/2, t/2)) by exact recursions."""
    y = t / 2
    if y <= 0:
        return b[0], 1 - b[0]
    if y > 2 * N + 500:       # Q(a,y) < e^-400 for all a <= N/2
        return mpf(1), mpf(0)
    sy = mp.sqrt(y)
    ey = mp.exp(-y)
    # odd k: a = k/2 = 1/2, 3/2, ... ; even k: a = 1, 2, ...
    Po, Qo, To, ao = mp.erf(sy), mp.erfc(sy), 2 * sy * ey / mp.sqrt(mp.pi), mpf(1) / 2
    Pe, Qe, Te, ae = -mp.expm1(-y), ey, y * ey, mpf(1)
    G, Gb = b[0], mpf(0)
    for k in range(1, N + 1):
        if k & 1:
            G += b[k] * Po
            Gb += b[k] * Qo
            Po -= To
            Qo += To
            To *= y / (ao + 1)
            ao += 1
        else:
            G += b[k] * Pe
            Gb += b[k] * Qe
            Pe -= Te
            Qe += Te
            Te *= y / (ae + 1)
            ae += 1
    return G, Gb


# ----------------------------------------------------------------------------- Gil-Pelaez
class GPModel:
    def __init__(self, layers, y0):
        assert all(b == 0 for _, _, b in layers)
        self.layers, self.y0 = layers, y0
        self.atom = atom_exact(layers)
        self.counts = {}
        for N, _, _ in layers:
            self.counts[N] = self.counts.get(N, 0) + 1
        self.info = {}
        self.trunc_mass = mpf(0)
        for N in self.counts:
            b = binom_b_mp(N)
            norm = 1 - mpf(2) ** (-N)
            w = [bk / norm for bk in b]
            keep = [k for k in range(1, N + 1) if w[k] >= WCUT]
            kmin, kmax = keep[0], keep[-1]
            assert keep == list(range(kmin, kmax + 1))
            dropped = 1 - mp.fsum(w[kmin:kmax + 1])
            self.trunc_mass += self.counts[N] * abs(dropped)
            wf = np.array([float(w[k]) for k in range(kmin, kmax + 1)])
            self.info[N] = dict(w=w, kmin=kmin, kmax=kmax, wf=wf)
        self.kmin = min(v["kmin"] for v in self.info.values())
        self.A = max(N for N in self.counts) / 2
        c0 = mp.log(mpf(y0)) + mp.fsum(mp.log(mpf(a)) for _, a, _ in layers)
        st = [logC_stats(N) for N, _, _ in layers]
        self.mu = c0 + mpf(sum(s[0] for s in st))        # centring only (any value works)
        self.sigma = math.sqrt(sum(s[1] for s in st))
        self.phase = c0 + len(layers) * mp.log(2) - self.mu
        self.mu_f = float(self.mu)

    # bound on |phi| -----------------------------------------------------------
    def logM(self, t):
        tot = 0.0
        for N, cnt in self.counts.items():
            inf = self.info[N]
            k = np.arange(inf["kmin"], inf["kmax"] + 1)
            lr = sps.loggamma(k / 2 + 1j * t).real - sps.gammaln(k / 2) + np.log(inf["wf"])
            mx = lr.max()
            tot += cnt * (mx + math.log(np.exp(lr - mx).sum()))
        return tot

    def choose_T(self):
        target = math.log(CF_EPS)
        hi = 1.0
        while self.logM(hi) > target:
            hi *= 1.5
        lo = 0.0
        for _ in range(60):
            mid = (lo + hi) / 2
            if self.logM(mid) > target:
                lo = mid
            else:
                hi = mid
        T = hi
        A = self.A
        bound = math.exp(self.logM(T)) / math.pi * math.sqrt(A * A + T * T) / A * math.asinh(A / T)
        return T, bound

    # psi at nodes ---------------------------------------------------------------
    def psi_float(self, ts):
        out = np.exp(1j * ts * float(self.phase))
        for N, cnt in self.counts.items():
            inf = self.info[N]
            kmin, kmax, wf = inf["kmin"], inf["kmax"], inf["wf"]
            ra = np.exp(sps.loggamma(kmin / 2 + 1j * ts) - sps.gammaln(kmin / 2))
            rb = np.exp(sps.loggamma((kmin + 1) / 2 + 1j * ts) - sps.gammaln((kmin + 1) / 2))
            s = np.zeros_like(ts, dtype=complex)
            for i, k in enumerate(range(kmin, kmax + 1)):
                s += wf[i] * ra
                ra, rb = rb, ra * (1 + 2j * ts / k)
            out *= s ** cnt
        return out

    def S_mp(self, N, t):
        inf = self.info[N]
        kmin, kmax, w = inf["kmin"], inf["kmax"], inf["w"]
        it = mpc(0, t)
        ka, kb = mpf(kmin) / 2, mpf(kmin + 1) / 2
        ra = mp.exp(mp.loggamma(ka + it) - mp.loggamma(ka))
        rb = mp.exp(mp.loggamma(kb + it) - mp.loggamma(kb))
        s = mpc(0)
        two_t = 2 * t
        for k in range(kmin, kmax + 1):
            s += w[k] * ra
            ra, rb = rb, ra * mpc(1, two_t / k)
        return s

    def psi_mp(self, t):
        v = mp.expj(t * self.phase)
        for N, cnt in self.counts.items():
            v *= self.S_mp(N, t) ** cnt
        return v

    # grids ------------------------------------------------------------------------
    def h_for(self, dmax):
        return min(0.4 * self.kmin, 2.0, 6.0 / (dmax + 1.0))

    def edges(self, T, h):
        n = int(math.ceil(T / h))
        hm = mpf(h)
        return [hm * i for i in range(n + 1)]

    def float_F(self, dmax):
        T, _ = self.choose_T()
        ts, ws = panel_rule_float(self.edges(T, self.h_for(dmax)), GL_N)
        ps = self.psi_float(ts)
        A = ws * ps.imag / ts
        B = ws * ps.real / ts

        def F(delta):
            return 0.5 - float(np.sum(np.cos(ts * delta) * A - np.sin(ts * delta) * B)) / math.pi
        return F

    def mp_rule(self, T, h):
        ts, ws = panel_rule_mp(self.edges(T, h), GL_N)
        AB = []
        for t, w in zip(ts, ws):
            p = self.psi_mp(t)
            AB.append((t, w * p.imag / t, w * p.real / t))
        return AB

    @staticmethod
    def integral(AB, delta):
        s = mpf(0)
        for t, a, b in AB:
            x = t * delta
            s += mp.cos(x) * a - mp.sin(x) * b
        return s

    def evaluate(self, xs, name=""):
        """cdf, sf at xs (floats) with the coarse/fine error estimate."""
        deltas = [mp.log(mpf(x)) - self.mu for x in xs]
        dmax = float(max(abs(d) for d in deltas))
        T, tail = self.choose_T()
        h = self.h_for(dmax)
        t0 = time.time()
        AB1 = self.mp_rule(T, h)
        AB2 = self.mp_rule(T, h / 2)
        log(f"{name}: GP nodes {len(AB1)}+{len(AB2)}, T={T:.3f}, h={h:.4f}, kmin={self.kmin}, "
            f"psi eval {time.time() - t0:.1f}s")
        cdf, sf, qerr = [], [], mpf(0)
        one_m = 1 - self.atom
        for d in deltas:
            I1 = self.integral(AB1, d)
            I2 = self.integral(AB2, d)
            qerr = max(qerr, abs(I1 - I2) / mp.pi * one_m)
            F = mpf(1) / 2 - I2 / mp.pi
            cdf.append(self.atom + one_m * F)
            sf.append(one_m * (mpf(1) / 2 + I2 / mp.pi))
        err = qerr + tail + self.trunc_mass + mpf(10) ** (-DPS + 6)
        info = dict(T=T, h=h, nodes_fine=len(AB2), tail_bound=tail,
                    quad_coarse_fine_diff=float(qerr), weight_trunc_mass=float(self.trunc_mass))
        return cdf, sf, float(err), info


def choose_points(mu, sigma, atom, cdf_f, sf_f):
    """cdf_f, sf_f: float functions of u = log x."""
    lo, hi = mu - 20 * sigma - 5, mu + 20 * sigma + 5
    us = []
    for p in LEFT_LEVELS:
        f = lambda u: (cdf_f(u) - atom) - p
        assert f(lo) < 0 < f(hi), (p, f(lo), f(hi))
        us.append(optimize.brentq(f, lo, hi, xtol=1e-10))
    for p in RIGHT_LEVELS:
        f = lambda u: sf_f(u) - p
        assert f(lo) > 0 > f(hi), (p, f(lo), f(hi))
        us.append(optimize.brentq(f, lo, hi, xtol=1e-10))
    us += [mu + sigma * j / 5 for j in range(-10, 11)]
    xs = sorted({float(f"{math.exp(u):.6g}") for u in us})
    return xs


def gp_points(model):
    atom = float(model.atom)
    F = model.float_F(20 * model.sigma + 5)
    mu = model.mu_f
    cdf_f = lambda u: atom + (1 - atom) * F(u - mu)
    sf_f = lambda u: (1 - atom) * (1 - F(u - mu))
    return choose_points(mu, model.sigma, atom, cdf_f, sf_f)


# ----------------------------------------------------------------------------- nested quadrature
class NestedModel:
    def __init__(self, layers, y0, h=0.5, grade=None):
        assert len(layers) == 2
        (N1, a1, b1), (N2, a2, b2) = layers
        self.N1, self.N2 = N1, N2
        self.a2, self.b2 = mpf(a2), mpf(b2)
        self.s1 = mpf(a1) * mpf(y0) + mpf(b1)
        self.A = self.a2 * self.s1
        self.b1m, self.b2m = binom_b_mp(N1), binom_b_mp(N2)
        self.b1f, self.b2f = binom_b_float(N1), binom_b_float(N2)
        self.atom = atom_exact(layers)
        self.h = h
        self.grade = (50 if b2 == 0 else 0) if grade is None else grade
        # V: P(chi2_{N1} > V^2) < 1e-34 (mixture tail is dominated by the k = N1 term)
        V = h
        while mp.gammainc(mpf(N1) / 2, mpf(V) ** 2 / 2, mp.inf, regularized=True) > 1e-34:
            V += h
        self.V = V
        self.vtail = float(mp.gammainc(mpf(N1) / 2, mpf(V) ** 2 / 2, mp.inf, regularized=True))

    def edges(self, h):
        hm = mpf(h)
        e = [mpf(0)] + [hm / mpf(2) ** j for j in range(self.grade, 0, -1)]
        n = int(round(self.V / h))
        e += [hm * i for i in range(1, n + 1)]
        return e

    def q_mp(self, v):
        """sum_{k>=1} b_k 2v chi2pdf_k(v^2)."""
        v2 = v * v
        e = mp.exp(-v2 / 2)
        qa, qb = mp.sqrt(2 / mp.pi) * e, v * e
        s = mpf(0)
        for k in range(1, self.N1 + 1):
            s += self.b1m[k] * qa
            qa, qb = qb, qa * v2 / k
        return s

    def q_float(self, v):
        k = np.arange(1, self.N1 + 1)[:, None]
        lq = (math.log(2) + (k - 1) * np.log(v[None, :]) - v[None, :] ** 2 / 2
              - k / 2 * math.log(2) - sps.gammaln(k / 2))
        return np.sum(self.b1f[1:, None] * np.exp(lq), axis=0)

    def rule_mp(self, h):
        ts, ws = panel_rule_mp(self.edges(h), NQ_N)
        out, dropped = [], mpf(0)
        for v, w in zip(ts, ws):
            wq = w * self.q_mp(v)
            if wq < mpf(10) ** -45:
                dropped += wq
                continue
            out.append((self.A * v * v, wq))
        return out, dropped

    def atom_terms(self, x):
        if self.b2 > 0:
            return G_PQ(self.b2m, self.N2, x / self.b2)
        return mpf(1), mpf(0)

    def integrals(self, rule, x):
        x = mpf(x)
        P0, Q0 = self.atom_terms(x)
        c, s = self.b1m[0] * P0, self.b1m[0] * Q0
        for Av2, wq in rule:
            P, Q = G_PQ(self.b2m, self.N2, x / (Av2 + self.b2))
            c += wq * P
            s += wq * Q
        return c, s

    def evaluate(self, xs, name=""):
        t0 = time.time()
        r1, d1 = self.rule_mp(self.h)
        r2, d2 = self.rule_mp(self.h / 2)
        log(f"{name}: nested nodes {len(r1)}+{len(r2)}, V={self.V}, grade={self.grade}, "
            f"setup {time.time() - t0:.1f}s")
        cdf, sf, qerr, sumerr = [], [], mpf(0), mpf(0)
        for i, x in enumerate(xs):
            c1, s1 = self.integrals(r1, x)
            c2, s2 = self.integrals(r2, x)
            qerr = max(qerr, abs(c1 - c2), abs(s1 - s2))
            sumerr = max(sumerr, abs(c2 + s2 - 1))
            cdf.append(c2)
            sf.append(s2)
        err = qerr + self.vtail + d2 + mpf(10) ** (-DPS + 6)
        info = dict(V=self.V, h=self.h, grade=self.grade, nodes_fine=len(r2),
                    quad_coarse_fine_diff=float(qerr), outer_tail_bound=self.vtail,
                    max_abs_cdf_plus_sf_minus_1=float(sumerr))
        return cdf, sf, float(err), info

    # float versions for placing points --------------------------------------------------
    def float_funcs(self):
        v, w = panel_rule_float(self.edges(self.h / 2), NQ_N)
        wq = w * self.q_float(v)
        A, b2 = float(self.A), float(self.b2)
        k = np.arange(1, self.N2 + 1)[:, None]
        b2f = self.b2f
        b10 = float(self.b1m[0])

        def GG(t):
            t = np.atleast_1d(t)
            P = b2f[0] + np.sum(b2f[1:, None] * sps.gammainc(k / 2, t[None, :] / 2), axis=0)
            Q = np.sum(b2f[1:, None] * sps.gammaincc(k / 2, t[None, :] / 2), axis=0)
            return P, Q

        def cs(u):
            x = math.exp(u)
            P, Q = GG(x / (A * v * v + b2))
            if b2 > 0:
                P0, Q0 = GG(np.array([x / b2]))
                P0, Q0 = P0[0], Q0[0]
            else:
                P0, Q0 = 1.0, 0.0
            return b10 * P0 + np.sum(wq * P), b10 * Q0 + np.sum(wq * Q)

        # mean / sd of log z_2 | z_2 > 0 = log s_2 + log C_2 (independent given K_2 >= 1)
        ls = np.log(A * v * v + b2)
        if b2 > 0:
            m_s = b10 * math.log(b2) + np.sum(wq * ls)
            m2_s = b10 * math.log(b2) ** 2 + np.sum(wq * ls ** 2)
            m_s, m2_s = m_s, m2_s
        else:   # conditional on z_1 > 0
            m_s = np.sum(wq * ls) / (1 - b10)
            m2_s = np.sum(wq * ls ** 2) / (1 - b10)
        mc, vc = logC_stats(self.N2)
        mu = float(m_s + mc)
        sigma = math.sqrt(float(m2_s - m_s ** 2) + vc)
        return cs, mu, sigma

    def points(self):
        cs, mu, sigma = self.float_funcs()
        return choose_points(mu, sigma, float(self.atom), lambda u: cs(u)[0], lambda u: cs(u)[1])


def reverse_cdf(layers, y0, x):
    """P(z_2 <= x) = b_0^(2) + int_0^{x/sb2_2} f_{C_2}(c) P(z_1 <= (x/c - sb2_2)/sw2_2) dc."""
    (N1, a1, b1), (N2, a2, b2) = layers
    a2, b2, x = mpf(a2), mpf(b2), mpf(x)
    s1 = mpf(a1) * mpf(y0) + mpf(b1)
    bb1, bb2 = binom_b_mp(N1), binom_b_mp(N2)

    def f(c):
        if c <= 0:
            return mpf(0)
        y = (x / c - b2) / a2
        if y < 0:
            return mpf(0)
        Fz1 = G_PQ(bb1, N1, y / s1)[0]
        e = mp.exp(-c / 2)
        pa, pb = e / mp.sqrt(2 * mp.pi * c), e / 2
        dens = mpf(0)
        for k in range(1, N2 + 1):
            dens += bb2[k] * pa
            pa, pb = pb, pa * c / k
        return dens * Fz1

    cmax = x / b2
    pts = [mpf(0)] + [p for p in (mpf(N2) / 8, mpf(N2) / 4, mpf(N2) / 2, mpf(N2), mpf(2 * N2),
                                  mpf(4 * N2), mpf(8 * N2)) if p < cmax * 0.999] + [cmax]
    val, err = mp.quad(f, pts, error=True, maxdegree=8)
    return bb2[0] + val, err


# ----------------------------------------------------------------------------- Monte Carlo
def monte_carlo_check(layers, y0, xs, cdf, n=2_000_000, seed=12345):
    rng = np.random.default_rng(seed)
    z = np.full(n, float(y0))
    for N, a, b in layers:
        K = rng.binomial(N, 0.5, size=n)
        C = np.where(K > 0, rng.chisquare(np.maximum(K, 1)), 0.0)
        z = (a * z + b) * C
    z.sort()
    emp = np.searchsorted(z, np.asarray(xs), side="right") / n
    ref = np.array([float(c) for c in cdf])
    se = np.sqrt(np.maximum(ref * (1 - ref), 1.0 / n) / n)
    return float(np.max(np.abs(emp - ref) / se))


# ----------------------------------------------------------------------------- tasks
def run_case(name):
    mp.mp.dps = DPS
    t0 = time.time()
    layers, y0 = CASES[name]
    checks = {}
    if all(b == 0 for _, _, b in layers):
        model = GPModel(layers, y0)
        xs = gp_points(model)
        log(f"{name}: mu={model.mu_f:.6f} sigma={model.sigma:.6f} atom={float(model.atom):.3e}, "
            f"{len(xs)} points [{xs[0]:.4g}, {xs[-1]:.4g}]")
        cdf, sf, err, info = model.evaluate(xs, name)
        method = "gil-pelaez"
        if len(layers) == 1:   # check 1
            N, a, _ = layers[0]
            s = mpf(a) * mpf(y0)
            b = binom_b_mp(N)
            diff = mpf(0)
            for x, c in zip(xs, cdf):
                d = b[0] + mp.fsum(b[k] * mp.gammainc(mpf(k) / 2, 0, mpf(x) / (2 * s), regularized=True)
                                   for k in range(1, N + 1))
                diff = max(diff, abs(d - c))
            checks["check1_single_layer_gp_vs_direct_max_abs_diff"] = float(diff)
            log(f"{name}: CHECK1 GP vs direct mixture max |diff| = {float(diff):.3e}")
    else:
        model = NestedModel(layers, y0)
        xs = model.points()
        log(f"{name}: atom={float(model.atom):.3e}, {len(xs)} points [{xs[0]:.4g}, {xs[-1]:.4g}]")
        cdf, sf, err, info = model.evaluate(xs, name)
        method = "nested-quadrature"
        # check 4: reverse-order integral
        diff, qe = mpf(0), mpf(0)
        for x in xs[::5]:
            r, e = reverse_cdf(layers, y0, x)
            i = xs.index(x)
            diff = max(diff, abs(r - cdf[i]))
            qe = max(qe, e)
        checks["check4_reverse_order_max_abs_diff"] = float(diff)
        checks["check4_reverse_order_mpquad_err_est"] = float(qe)
        checks["check4_points"] = len(xs[::5])
        log(f"{name}: CHECK4 nested vs reverse-order max |diff| = {float(diff):.3e} "
            f"(mp.quad err est {float(qe):.1e}, {len(xs[::5])} pts)")
    sumdev = max(abs(c + s - 1) for c, s in zip(cdf, sf))
    checks["check3_max_abs_cdf_plus_sf_minus_1"] = float(sumdev)
    mc = monte_carlo_check(layers, y0, xs, cdf)
    checks["check5_monte_carlo_max_abs_z"] = mc
    m1, m2 = exact_moments(layers, y0)
    # the stored float64 values differ from the mp values by at most half an ulp; include
    # the actual rounding error so that abs_error_bound bounds |stored value - true value|
    rounding = max(abs(mpf(float(v)) - v) for v in list(cdf) + list(sf))
    info["abs_error_bound_mp"] = err
    info["float64_rounding_max"] = float(rounding)
    err = float(mpf(err) + rounding)
    out = {
        "layers": [[int(N), float(a), float(b)] for N, a, b in layers],
        "y0": float(y0),
        "x": xs,
        "cdf": [float(c) for c in cdf],
        "sf": [float(s) for s in sf],
        "atom": float(model.atom),
        "mean": float(m1),
        "second_moment": float(m2),
        "abs_error_bound": err,
        "method": method,
        "numerics": {k: (float(v) if isinstance(v, (mp.mpf, float)) else v) for k, v in info.items()},
    }
    log(f"{name}: done in {time.time() - t0:.1f}s, abs_error_bound={err:.2e}, "
        f"cdf+sf-1={float(sumdev):.1e}, MC max|z|={mc:.2f}")
    return name, out, checks


def run_check2(name):
    mp.mp.dps = DPS
    t0 = time.time()
    layers, y0 = CHECK2_CASES[name]
    gp = GPModel(layers, y0)
    xs = gp_points(gp)[::4]
    c1, s1, e1, _ = gp.evaluate(xs, name)
    nq = NestedModel(layers, y0)
    c2, s2, e2, info2 = nq.evaluate(xs, name)
    diff = max(max(abs(a - b) for a, b in zip(c1, c2)), max(abs(a - b) for a, b in zip(s1, s2)))
    res = dict(max_abs_diff=float(diff), gp_err_bound=e1, nested_err_bound=e2, npoints=len(xs),
               nested_cdf_plus_sf_minus_1=info2["max_abs_cdf_plus_sf_minus_1"],
               x_range=[xs[0], xs[-1]])
    log(f"{name}: CHECK2 GP vs nested max |diff| = {float(diff):.3e} "
        f"(GP bound {e1:.1e}, nested bound {e2:.1e}) in {time.time() - t0:.1f}s")
    return name, res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "..", "tests", "data", "reference_cdf.json"))
    ap.add_argument("--cases", nargs="*", default=None)
    args = ap.parse_args()
    t0 = time.time()
    names = args.cases or list(CASES)
    cases, checks = {}, {"check1": {}, "check2": {}, "check3": {}, "check4": {}, "check5": {}}
    # longest tasks first
    order = ["he1000_L3", "bias_N50_L2", "he200_L9"]
    names = [n for n in order if n in names] + [n for n in names if n not in order]
    c2names = list(CHECK2_CASES) if args.cases is None else []
    with ProcessPoolExecutor(max_workers=args.jobs) as ex:
        futs = [ex.submit(run_case, n) for n in names] + [ex.submit(run_check2, n) for n in c2names]
        for f in futs:
            r = f.result()
            if len(r) == 3:
                name, out, ch = r
                cases[name] = out
                for k, v in ch.items():
                    grp = k.split("_")[0]
                    checks[grp].setdefault(name, {})[k] = v
            else:
                name, res = r
                checks["check2"][name] = res
    cases = {n: cases[n] for n in CASES if n in cases}
    summary = {
        "check1_single_layer_gp_vs_direct": max(
            [v["check1_single_layer_gp_vs_direct_max_abs_diff"] for v in checks["check1"].values()] or [None]),
        "check2_gp_vs_nested_2layer_nobias": max(
            [v["max_abs_diff"] for v in checks["check2"].values()] or [None]),
        "check3_cdf_plus_sf_minus_1": max(v["check3_max_abs_cdf_plus_sf_minus_1"] for v in checks["check3"].values()),
        "check4_bias_reverse_order": max(
            [v["check4_reverse_order_max_abs_diff"] for v in checks["check4"].values()] or [None]),
        "check5_monte_carlo_max_abs_z": max(v["check5_monte_carlo_max_abs_z"] for v in checks["check5"].values()),
        "max_abs_error_bound": max(c["abs_error_bound"] for c in cases.values()),
    }
    checks["summary"] = summary
    doc = {
        "generated_by": "python validation/reference_cdf.py",
        "method": ("sb2=0: Gil-Pelaez inversion of the closed-form characteristic function of log z_L "
                   "(binomial mixture of Gamma(k/2+it)/Gamma(k/2)), panelled Gauss-Legendre in mpmath dps=32, "
                   "rigorous truncation bound; sb2>0: nested Gauss-Legendre quadrature over sqrt(C_1) of "
                   "binomial mixtures of regularized incomplete gamma functions (mpmath dps=32). "
                   "Errors: coarse-vs-fine panel difference + truncation bounds (~1e-26 for the mp values, "
                   "numerics.abs_error_bound_mp) plus the float64 rounding of the stored values."),
        "mpmath_dps": DPS,
        "cases": cases,
        "checks": checks,
    }
    if args.cases is None:
        out = os.path.normpath(args.out)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "w") as fh:
            json.dump(doc, fh, indent=1)
        log(f"wrote {out}")
    print(json.dumps(summary, indent=1))
    log(f"total runtime {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
