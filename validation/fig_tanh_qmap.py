"""The finite-width q-map of a tanh network beside the mean-field q-map (Poole et al. 2016), N = 5, 20, 100, inf.

    python validation/fig_tanh_qmap.py [--quick] [--out fig_tanh_qmap.png]

With ``sigma_w2 = c / N`` and input ``|x^(0)|^2 = N q_0`` (q_0 = 1), the pre-activation variance of
layer l, ``q_l = E[s_l] = sigma_w2 E|x^(l-1)|^2 + sigma_b2``, is read from sigdist's exact laws
(``law.mean()`` of layer l-1; Burkholz & Dubatovka 2019, Prop. 1). As N -> inf it follows the
mean-field map (Poole et al. 2016, eq. 3)

    q_l = c E[tanh(sqrt(q_{l-1}) g)^2] + sigma_b2,   g ~ N(0, 1),

and the finite-width correction is O(1/N) (s_l has variance O(1/N) about q_l, and the map is
curved): N |q_l(N) - q_l(inf)| approaches a constant. Two phases: ordered (c = 1.5) and chaotic
(c = 4), both sigma_b2 = 0.05; the phase is read from chi_1 = c E[tanh'(sqrt(q*) g)^2] at the
mean-field fixed point q* (< 1 ordered, > 1 chaotic). The finite-width fixed point is the mean of
sigdist's stationary law, q*_N = sigma_w2 E_stat[z] + sigma_b2 (dashed marks).

Printed: the phase and chi_1 (trapezoid rule, checked against adaptive quadrature), per N the
q_l at the last layer, N |q_L(N) - q_L(inf)|, N |q*_N - q*|, how far q_L still is from q*_N (beside
the mean-field q_L - q*: the layers approach the stationary mean), the laws' error estimates, and a
Monte Carlo check of E z_l on the exact reduced chain of Prop. 1 (numpy; the largest |z-score|
over the layers). Checks (exit code): each phase is what it is said to be, every |z-score| < 5,
|q_L(N) - q_L(inf)| falls with N, and N |q*_N - q*| changes by less than a factor 2 from N = 20 to
N = 100 (a 1/N correction). --quick: N = 20, 100, 6 layers, 4000 Monte Carlo networks (default N = 5,
20, 100, 20 layers, 40000 networks).
N = 5 runs at tol 1e-4 (its Fourier route costs seconds a layer at 1e-8; the error estimates,
printed, are far below what the figure resolves).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings

import numpy as np
from scipy import integrate

import sigdist
from sigdist import Layer, Network

PHASES = (("ordered", 1.5, 0.05), ("chaotic", 4.0, 0.05))
WIDTHS = (5, 20, 100)
Q0 = 1.0  # per-unit squared input norm: |x^(0)|^2 = N q0, so q_1 = c q0 + sigma_b2 for every N
# the trapezoid rule on the real line converges like exp(-2 pi d / h) for an integrand analytic in the strip
# |Im g| < d: tanh(sqrt(q) g) has its poles at d = pi / (2 sqrt(q)) (0.75 at q = 4.4), so h = 0.02 is
# exact to roundoff; the Gaussian weight beyond |g| = 14 is 1e-43. (Gauss-Hermite converges only like
# exp(-d sqrt(2 n)) here: 2e-9 off at q = 2.2 with 200 nodes.)
_G = np.arange(-700, 701) * 0.02
_W = 0.02 * np.exp(-0.5 * _G**2) / math.sqrt(2 * math.pi)  # E f(g) = sum w f(g) for g ~ N(0, 1)


def gauss_mean(f, q):
    """E f(sqrt(q) g), g ~ N(0, 1), by the trapezoid rule (f analytic in a strip: geometric convergence)."""
    return float(_W @ f(math.sqrt(q) * _G))


def quad_mean(f, q):
    """The same expectation by adaptive quadrature (the second route)."""
    dens = lambda g: f(math.sqrt(q) * g) * math.exp(-0.5 * g * g) / math.sqrt(2 * math.pi)
    return integrate.quad(dens, -40, 40, epsabs=1e-14, epsrel=1e-13, limit=400, points=[0.0])[0]


def tanh2(h):
    return np.tanh(h) ** 2


def dtanh2(h):
    return np.cosh(h) ** -4.0  # tanh'(h)^2 = sech(h)^4


def mean_field_q(c, sigma_b2, depth):
    """q_1..q_depth of the mean-field map q_l = c E[tanh(sqrt(q_{l-1}) g)^2] + sigma_b2, q_1 = c q0 + sigma_b2."""
    q = [c * Q0 + sigma_b2]
    for _ in range(depth - 1):
        q.append(c * gauss_mean(tanh2, q[-1]) + sigma_b2)
    return np.array(q)


def mean_field_fixed_point(c, sigma_b2):
    """q* = c E[tanh(sqrt(q*) g)^2] + sigma_b2, by iterating the map (a contraction near q* for sigma_b2 > 0)."""
    q = c * Q0 + sigma_b2
    for _ in range(10000):
        q_new = c * gauss_mean(tanh2, q) + sigma_b2
        if abs(q_new - q) < 1e-15 * q:
            break
        q = q_new
    return q_new


def finite_width_q(c, sigma_b2, width, depth, tol):
    """q_1..q_depth from sigdist's exact laws of layers 1..depth-1; and their largest error estimate."""
    layer = Layer(width, c / width, sigma_b2, activation="tanh")
    laws = sigdist.layer_laws(Network([layer] * (depth - 1)), width * Q0, tol=tol)
    means = np.array([law.mean() for law in laws])
    q = np.concatenate([[layer.sigma_w2 * width * Q0 + sigma_b2], layer.sigma_w2 * means + sigma_b2])
    return q, means, max(law.error_estimate for law in laws)


def monte_carlo_means(c, sigma_b2, width, depth, n, seed):
    """Sample means and standard errors of z_1..z_depth on the reduced chain z_l = sum_i tanh(sqrt(s_l) g_i)^2,
    s_l = sigma_w2 z_{l-1} + sigma_b2 (Prop. 1), n networks."""
    rng = np.random.default_rng(seed)
    z = np.full(n, width * Q0)
    mean, se = [], []
    for _ in range(depth):
        s = c / width * z + sigma_b2
        z = (np.tanh(np.sqrt(s)[:, None] * rng.standard_normal((n, width))) ** 2).sum(axis=1)
        mean.append(z.mean())
        se.append(z.std(ddof=1) / math.sqrt(n))
    return np.array(mean), np.array(se)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="fig_tanh_qmap.png")
    args = ap.parse_args(argv)
    depth = 6 if args.quick else 20
    n_mc = 4000 if args.quick else 40000
    widths = WIDTHS[1:] if args.quick else WIDTHS
    if args.quick:
        print("--quick: N = 20, 100 and 6 layers (N = 5 costs seconds a layer on the Fourier route)")
    ok = True
    results = {}
    for phase, c, sigma_b2 in PHASES:
        q_star = mean_field_fixed_point(c, sigma_b2)
        chi = c * gauss_mean(dtanh2, q_star)
        chi_quad = c * quad_mean(dtanh2, q_star)
        fp_residual = c * quad_mean(tanh2, q_star) + sigma_b2 - q_star
        is_phase = "ordered" if chi < 1 else "chaotic"
        ok &= is_phase == phase and abs(chi - chi_quad) < 1e-10 and abs(fp_residual) < 1e-10
        print(f"{phase}: c = N sigma_w2 = {c:g}, sigma_b2 = {sigma_b2:g}: mean-field q* = {q_star:.10f} "
              f"(residual by quad {fp_residual:.1e}), chi_1 = {chi:.6f} (quad: {chi - chi_quad:+.1e}) -> {is_phase}")
        q_inf = mean_field_q(c, sigma_b2, depth)
        rows = []
        for width in widths:
            tol = 1e-4 if width <= 5 else 1e-8
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sigdist.SigdistWarning)  # estimates printed below
                q, means, est = finite_width_q(c, sigma_b2, width, depth, tol)
                stat = sigdist.stationary_law(Layer(width, c / width, sigma_b2, activation="tanh"), tol=tol)
                q_star_n = c / width * stat.mean() + sigma_b2
            seconds = time.perf_counter() - t0
            mc, se = monte_carlo_means(c, sigma_b2, width, depth - 1, n_mc, seed=width)
            zs = (mc - means) / se
            ok &= bool(np.all(np.abs(zs) < 5))
            rows.append((width, q, q_star_n))
            print(f"  N={width:>4} (tol {tol:.0e}, {seconds:5.1f} s): q_{depth} = {q[-1]:.8f}  "
                  f"N|q_L - q_L(inf)| = {width * abs(q[-1] - q_inf[-1]):.5f}  q*_N = {q_star_n:.8f}  "
                  f"N|q*_N - q*| = {width * abs(q_star_n - q_star):.5f}  q_L - q*_N = {q[-1] - q_star_n:+.1e}  "
                  f"error est. laws {est:.1e}, "
                  f"stationary {stat.error_estimate:.1e}  MC ({n_mc} networks) max|z| = {np.max(np.abs(zs)):.2f}")
        print(f"  N= inf: q_{depth} = {q_inf[-1]:.8f}  q* = {q_star:.8f}  q_L - q* = {q_inf[-1] - q_star:+.1e}")
        gaps = [abs(q[-1] - q_inf[-1]) for _, q, _ in rows]
        ok &= all(b < a for a, b in zip(gaps, gaps[1:]))
        scaled = [width * abs(qs - q_star) for width, _, qs in rows]
        ok &= 0.5 < scaled[-1] / scaled[-2] < 2
        results[phase] = (c, sigma_b2, q_inf, q_star, chi, rows)

    from sigdist.plotting import finish_figure, pyplot, use_file_backend

    use_file_backend()
    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    layers = np.arange(1, depth + 1)
    colours = dict(zip(WIDTHS, ("tab:red", "tab:orange", "tab:blue")))
    for col, (phase, (c, sigma_b2, q_inf, q_star, chi, rows)) in enumerate(results.items()):
        top, bottom = axes[0, col], axes[1, col]
        top.plot(layers, q_inf, "k-", lw=1.6, label=r"$N=\infty$ (q-map)")
        top.axhline(q_star, color="k", ls=":", lw=1)
        for width, q, q_star_n in rows:
            top.plot(layers, q, "o-", ms=3, lw=1, color=colours[width], label=f"N={width}")
            top.axhline(q_star_n, color=colours[width], ls="--", lw=0.8)
            bottom.plot(layers, width * (q - q_inf), "o-", ms=3, lw=1, color=colours[width], label=f"N={width}")
            bottom.axhline(width * (q_star_n - q_star), color=colours[width], ls="--", lw=0.8)
        top.set_title(f"{phase}: $N\\sigma_w^2$ = {c:g}, $\\sigma_b^2$ = {sigma_b2:g}, $\\chi_1$ = {chi:.3f}")
        top.set_ylabel(r"$q_l = \sigma_w^2 E|x^{(l-1)}|^2 + \sigma_b^2$")
        bottom.axhline(0, color="k", lw=0.6)
        bottom.set_xlabel("layer l")
        bottom.set_ylabel(r"$N\,(q_l(N) - q_l(\infty))$")
        top.legend(fontsize=8, title="dashed: stationary mean", title_fontsize=7)
        bottom.legend(fontsize=8, title=r"dashed: $N(q^*_N - q^*)$", title_fontsize=7)
    return finish_figure(fig, args.out, ok, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
