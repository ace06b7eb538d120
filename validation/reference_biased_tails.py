"""Independent reference for the far right tail P(z_3 > t) of a biased relu network of depth 3.

This script does NOT import sigdist. z_1 = (sw2 y0 + sb2) S_1, z_l = (sw2 z_{l-1} + sb2) S_l with
S = chi2_K, K ~ Bin(N, 1/2) (K = 0: S = 0, an atom). Then

    P(z_3 > t) = E[ Q(t / (sw2 z_2 + sb2)) ],   Q(y) = P(S > y) (mpmath's regularised gammainc),

taken as two nested integrals over x = log S_1 and x = log S_2 (densities of log chi2_K mixtures in
mpmath) plus the atoms' terms, each by scipy's adaptive quad (epsrel 1e-13) on the integrand scaled by
its maximum, so the value keeps relative accuracy however small it is. Values used by
tests/test_chain_tails.py (about 10 minutes each):

    python validation/reference_biased_tails.py 3013.826552005844     # 1.0000000006478184e-30
    python validation/reference_biased_tails.py 66979.20978412716     # 9.979156763715929e-101

Optional further arguments: N sw2 sb2 y0 (default 10 0.2 0.1 1.0).
"""
import math, sys
import numpy as np
from scipy import integrate, optimize
import mpmath as mp
mp.mp.dps = 25
N, sw2, sb2, y0 = 10, 0.2, 0.1, 1.0
if len(sys.argv) > 2:
    N, sw2, sb2, y0 = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
ks = range(1, N + 1)
w = {k: mp.binomial(N, k) / mp.mpf(2) ** N for k in ks}
atom = mp.mpf(2) ** -N
def log_q(x):  # density of log chi2_K mixture at x
    return float(mp.log(mp.fsum(w[k] * mp.exp(mp.mpf(k) / 2 * x - mp.exp(x) / 2 - mp.mpf(k) / 2 * mp.log(2) - mp.loggamma(mp.mpf(k) / 2)) for k in ks)))
def log_Q(y):  # log P(S > y), S chi2 mixture incl. atom at 0 (atom never exceeds y > 0)
    y = mp.mpf(y)
    return float(mp.log(mp.fsum(w[k] * mp.gammainc(mp.mpf(k) / 2, y / 2, mp.inf, regularized=True) for k in ks)))
def integrate_log(f, lo, hi):
    """int exp(f(x)) dx over [lo, hi] with relative accuracy: find the peak, scale, quad."""
    xs = np.linspace(lo, hi, 400)
    vals = np.array([f(x) for x in xs])
    i = int(np.argmax(vals)); top = vals[i]
    keep = xs[vals > top - 60]
    a, b = keep[0] - (xs[1] - xs[0]), keep[-1] + (xs[1] - xs[0])
    r = optimize.minimize_scalar(lambda x: -f(x), bounds=(max(a, xs[max(i-1,0)]), min(b, xs[min(i+1, 399)])), method="bounded")
    top = max(top, -r.fun)
    val, err = integrate.quad(lambda x: math.exp(f(x) - top), a, b, points=[r.x], epsabs=0, epsrel=1e-13, limit=800)
    return math.log(val) + top
def sf3(t):
    lt = math.log(t)
    def log_F(z2):  # log P(S3 > t / (sw2 z2 + sb2))
        return log_Q(t / (sw2 * z2 + sb2))
    def log_I(z1):  # log E[F(z2) | z1]
        s = sw2 * z1 + sb2
        cont = integrate_log(lambda x2: log_q(x2) + log_F(s * math.exp(x2)), -60.0, 12.0)
        return float(mp.log(atom * mp.exp(log_F(0.0)) + mp.exp(cont)))
    s0 = sw2 * y0 + sb2
    cont = integrate_log(lambda x1: log_q(x1) + log_I(s0 * math.exp(x1)), -60.0, 12.0)
    return float(mp.log(atom * mp.exp(log_I(0.0)) + mp.exp(cont)))
t = float(sys.argv[1])
print(t, math.exp(sf3(t)))
