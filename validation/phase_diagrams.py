"""Phase diagrams on sigdist.sweep (issue 16, point 4): relu tail index and atom, tanh order/chaos, FM2.

    python validation/phase_diagrams.py [--quick] [--cluster] [--out phase_diagrams.png]

(a) relu with bias over (s = sigma_w2 * width, sigma_b2) at N = 5, 20, 100: the stationary law's tail
    index alpha (analysis "tail_index"; alpha <= 2: infinite variance, alpha <= 1: infinite mean) and the
    atom P(z = 0) of the law after L = 3 layers from y0 = 1 (analysis "atom"). Checks: alpha = 1 at He
    (s = 2) for every N and every sigma_b2 down to 0; alpha strictly decreasing in s; alpha independent of
    sigma_b2 (z -> z / sigma_b2 maps the chain at sigma_b2 onto the one at 1: every scale-free property of
    the stationary law is a function of (s, N) only); the atom is 2^-N wherever sigma_b2 > 0 (each layer's
    pre-activations are symmetric and independent given the previous layer) and 1 - (1 - 2^-N)^L at
    sigma_b2 = 0 (zero is absorbing); alpha = 2 exactly at s = 2 sqrt(N / (N + 5)), where
    E[(sigma_w2 S)^2] = s^2 (N + 5) / (4N) = 1 (the same 1 + 5/N as FM2's).
(b) tanh: the finite-width order/chaos boundary. The mean cosine map rho -> E[cos] of one layer, at the
    mean-field fixed point q* of the q-map (Poole et al. 2016; the inputs' |x|^2 = y* = N E tanh(sqrt(q*) g)^2),
    has the fixed point rho = 1; it leaves 1 (a second fixed point below 1 appears) where the slope at
    rho = 1 crosses 1. The slope is a one-sided difference of sigdist.mean_cosine (first order in 1/N; its
    infinite-width value is the c-map, whose slope is chi_1 = s E[tanh'(h)^2], h ~ N(0, q*)). Checks: the
    infinite-width slope equals chi_1 (1-D quadrature) to 1e-4 at every grid point; the N = 100
    boundary lies within 5/N (relative, in s) of the mean-field line chi_1 = 1 (the 1/N term raises the
    slope, so a finite-width network enters chaos at a smaller s); and its shift
    N (s_100 - s_mf) agrees within 10 % with the linearised -K / (d chi_1 / ds), K = N (slope_N - chi_1).
    Monte Carlo of the exact reduced sampler (analysis "mean_cosine") at each width's boundary measures what
    the first order leaves out: the slope there is 1 within 4 standard errors plus 2 / N^2 (at N = 10 the
    true slope is ~0.015 above 1, so the exact N = 10 boundary lies at a smaller s still, by ~0.015 / (d slope /
    ds ~ 0.22) ~ 0.07; at N = 100 the difference is within the Monte Carlo error).
(c) FM2 (Hanin & Rolnick 2018): Var[M_d] / E[M_d]^2 over (width, depth), He relu, M_0 = 1 (analysis
    "length_moments"). Exactly (1 + 5/N)^d - 1 (docs/lengths.md), i.e. exp(c d / N) - 1 with
    c = N log(1 + 5/N) -> 5. Checks: the swept ratio equals (1 + 5/N)^d - 1 to 1e-10; a least-squares fit
    of log(1 + ratio) against sum_j 1/n_j = d / N over the widths >= 20 gives c within 0.7 of 5, above the
    constant C_2 = 4 of Theorem 5's Gaussian upper bound (docs/errata.md) and above its lower-bound 1/2.

Default client="serial" (the machine is shared); --cluster uses sweep's embedded LocalCluster.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
from scipy import optimize

import sigdist
from sigdist import Layer
from sigdist.cosine import mean_cosine
from sigdist.spectrum import tail_index

RELU_WIDTHS = (5, 20, 100)
TANH_WIDTHS = (10, 100)
ATOM_DEPTH = 3
# E f(g), g ~ N(0, 1): composite Gauss-Legendre, 96 panels of width 1/4 on [-12, 12] (16 nodes each): tanh's poles
# lie pi / (2 sqrt(q)) off the real axis, more than a panel's half-width for q < 35 (Gauss-Hermite converges slowly)
_X, _W = np.polynomial.legendre.leggauss(16)
_EDGES = np.linspace(-12.0, 12.0, 97)
_NODES = (0.5 * (_EDGES[:-1, None] + _EDGES[1:, None]) + 0.125 * _X).ravel()
_WEIGHTS = np.broadcast_to(0.125 * _W, (96, 16)).ravel() * np.exp(-0.5 * _NODES**2) / math.sqrt(2 * math.pi)


# -- (b): the mean-field q-map and chi_1 of tanh, and the finite-width slope of the cosine map -------------

def tanh_second_moment(q):
    """E tanh(sqrt(q) g)^2, g ~ N(0, 1) (composite Gauss-Legendre on [-12, 12])."""
    return float(np.dot(_WEIGHTS, np.tanh(math.sqrt(q) * _NODES) ** 2))


def q_star(s, sigma_b2):
    """The mean-field fixed point q* = s E tanh(sqrt(q*) g)^2 + sigma_b2 (sigma_b2 > 0: unique, in [b, s + b])."""
    if not sigma_b2 > 0:
        raise ValueError(f"sigma_b2 must be > 0 (q* = 0 at sigma_b2 = 0, s <= 1: no cosine), got {sigma_b2!r}")
    return optimize.brentq(lambda q: s * tanh_second_moment(q) + sigma_b2 - q, sigma_b2, s + sigma_b2, xtol=1e-15,
                           rtol=1e-14)


def chi_1(s, sigma_b2):
    """Poole et al.'s chi_1 = s E[tanh'(h)^2], h ~ N(0, q*): the slope of the c-map at c = 1."""
    q = q_star(s, sigma_b2)
    return float(s * np.dot(_WEIGHTS, np.cosh(math.sqrt(q) * _NODES) ** -4))


def cosine_slopes(network, eps=1e-6):
    """Slopes at rho = 1 of the one-layer mean cosine map at the mean-field fixed point (a sweep analysis).

    A user analysis for :func:`sigdist.sweep`: the network's first layer (tanh, width N, sigma_w2 = s / N,
    sigma_b2 > 0) sees two inputs with ``|x1|^2 = |x2|^2 = y* = N E tanh(sqrt(q*) g)^2`` and cosine
    ``1 - eps``; ``slope_finite`` is ``(1 - E[cos]) / eps`` with E[cos] of :func:`sigdist.mean_cosine` to
    first order in 1/N, ``slope_mean_field`` the same of its infinite-width value, ``chi_1`` the closed
    1-D integral. The pre-activation covariance does not depend on N (sigma_w2 y* = s E tanh^2), so
    ``slope_finite = slope_mean_field + K(s, sigma_b2) / N``.
    """
    layer = network[0]
    s = layer.width * layer.sigma_w2
    q = q_star(s, layer.sigma_b2)
    y = layer.width * tanh_second_moment(q)
    m = mean_cosine(layer, y, y, (1.0 - eps) * y)
    return {"q_star": q, "chi_1": chi_1(s, layer.sigma_b2), "slope_mean_field": (1.0 - m.infinite_width) / eps,
            "slope_finite": (1.0 - m.first_order) / eps}


def mean_field_boundary(sigma_b2, lo=0.5, hi=6.0):
    """The s where chi_1(s, sigma_b2) = 1 (Poole et al. 2016's order/chaos line)."""
    return optimize.brentq(lambda s: chi_1(s, sigma_b2) - 1.0, lo, hi, xtol=1e-10)


def finite_boundary(width, sigma_b2, lo=0.5, hi=6.0):
    """The s where the width-N cosine map's slope at rho = 1 crosses 1 (``cosine_slopes``)."""
    f = lambda s: cosine_slopes([Layer(width, s / width, sigma_b2, "tanh")])["slope_finite"] - 1.0  # noqa: E731
    return optimize.brentq(f, lo, hi, xtol=1e-6)


# -- the three diagrams -------------------------------------------------------------------------------

def relu_diagram(s, b2, client):
    """alpha and the atom after ATOM_DEPTH layers at each width: dicts width -> (alpha[s, b2], atom[s, b2])."""
    out = {}
    for n in RELU_WIDTHS:
        tail = sigdist.sweep("tail_index", sigma_w2=s / n, sigma_b2=b2, width=n, client=client, seed=0,
                             progress=False)
        atom = sigdist.sweep("atom", sigma_w2=s / n, sigma_b2=b2, width=n, depth=ATOM_DEPTH, client=client,
                             seed=0, progress=False)
        out[n] = (tail["tail_index"].values, atom["atom"].values, int(tail.attrs["failed_points"]),
                  int(atom.attrs["failed_points"]))
    return out


def tanh_diagram(s, b2, client):
    """The cosine-map slopes on the (s, sigma_b2) grid at each width: dict width -> Dataset."""
    return {n: sigdist.sweep(cosine_slopes, sigma_w2=s / n, sigma_b2=b2, width=n, activation="tanh",
                             client=client, seed=0, progress=False) for n in TANH_WIDTHS}


def fm2_diagram(widths, depths, client):
    """Var[M_d] / E[M_d]^2 over (width, depth), He relu, M_0 = 1: array [width, depth]."""
    rows = []
    for n in widths:
        ds = sigdist.sweep("length_moments", depth=depths, width=int(n), sigma_w2=2.0 / n, client=client, seed=0,
                           progress=False)
        rows.append(ds["length_variance"].values / ds["length_mean"].values ** 2)
    return np.array(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--cluster", action="store_true", help="the embedded LocalCluster instead of client='serial'")
    ap.add_argument("--out", default="phase_diagrams.png")
    args = ap.parse_args(argv)
    client = None if args.cluster else "serial"
    ok = True
    t0 = time.perf_counter()

    # (a) relu: tail index and atom
    s_a = np.linspace(0.5, 4.0, 15 if args.quick else 57)  # contains s = 2 (He) exactly
    b_a = np.array([0.0, 1e-4, 0.01, 0.1, 1.0] if args.quick else [0.0, 1e-6, 1e-4, 1e-3, 0.01, 0.03, 0.1, 0.3, 1.0])
    relu = relu_diagram(s_a, b_a, client)
    he = int(np.argmin(abs(s_a - 2.0)))
    print(f"(a) relu, alpha over s = sigma_w2 N in [{s_a[0]}, {s_a[-1]}] ({s_a.size}) x sigma_b2 {b_a.tolist()}")
    for n, (alpha, atom, fail_t, fail_a) in relu.items():
        he_err = float(np.max(abs(alpha[he] - 1.0)))
        decreasing = bool(np.all(np.diff(alpha, axis=0) < 0))
        flat = float(np.max(abs(alpha - alpha[:, :1])))
        with_bias = b_a > 0
        atom_bias = float(np.max(abs(atom[:, with_bias] / 2.0**-n - 1)))
        atom_zero = float(np.max(abs(atom[:, ~with_bias] / -np.expm1(ATOM_DEPTH * np.log1p(-2.0**-n)) - 1)))
        s2 = optimize.brentq(lambda v: tail_index(Layer(n, v / n)) - 2.0, 0.5, 2.0, xtol=1e-10)  # alpha = 2
        print(f"  N={n:>3}: alpha(He) - 1 = {he_err:.1e} (every sigma_b2); strictly decreasing in s: {decreasing}; "
              f"max |alpha - alpha(sigma_b2=0)| = {flat:.1e}; alpha = 2 at s = {s2:.4f}; alpha(s={s_a[0]}) = "
              f"{alpha[0, 0]:.4g}, alpha(s={s_a[-1]}) = {alpha[-1, 0]:.3g}")
        print(f"         atom after {ATOM_DEPTH} layers: rel. error vs 2^-N (sigma_b2 > 0) {atom_bias:.1e}, vs "
              f"1-(1-2^-N)^{ATOM_DEPTH} (sigma_b2 = 0) {atom_zero:.1e}; failed points {fail_t + fail_a}")
        s2_exact = 2 * math.sqrt(n / (n + 5))  # alpha = 2 <=> E[(sigma_w2 S)^2] = s^2 (N + 5) / (4 N) = 1
        print(f"         alpha = 2 at s = 2 sqrt(N / (N + 5)) = {s2_exact:.10f} (the second-moment map's "
              f"fixed point, FM2's 1 + 5/N): root - that = {s2 - s2_exact:.1e}")
        ok &= abs(s2 - s2_exact) < 1e-8
        ok &= he_err < 1e-9 and decreasing and flat == 0.0 and atom_bias < 1e-6 and atom_zero < 1e-6
        ok &= fail_t + fail_a == 0
    t_a = time.perf_counter()

    # (b) tanh: order/chaos boundary
    n_b = 8 if args.quick else 24
    s_b, b_b = np.linspace(0.5, 4.0, n_b), np.linspace(0.01, 0.3, n_b)
    tanh = tanh_diagram(s_b, b_b, client)
    for n, ds in tanh.items():
        gap = float(np.max(abs(ds["slope_mean_field"].values - ds["chi_1"].values)))
        shift = float(np.max(abs((ds["slope_finite"] - ds["slope_mean_field"]).values)) * n)
        print(f"(b) tanh N={n:>3} grid {n_b}x{n_b}: max |slope_mean_field - chi_1| = {gap:.1e}; "
              f"max N |slope_N - slope_mean_field| = {shift:.3f}; failed points {ds.attrs['failed_points']}")
        ok &= gap < 1e-4 and ds.attrs["failed_points"] == 0
    b_lines = np.array([0.02, 0.1, 0.25]) if args.quick else b_b
    lines = {"mean field": np.array([mean_field_boundary(b) for b in b_lines])}
    for n in TANH_WIDTHS:
        lines[n] = np.array([finite_boundary(n, b) for b in b_lines])
    for j, b in enumerate(b_lines):
        mf, f10, f100 = lines["mean field"][j], lines[10][j], lines[100][j]
        # linearised prediction of the shift: slope_N = chi_1 + K / N, so ds = -K / (N dchi_1/ds) at the line
        k = cosine_slopes([Layer(1, mf, b, "tanh")])
        k = k["slope_finite"] - k["slope_mean_field"]
        dchi = (chi_1(mf + 1e-5, b) - chi_1(mf - 1e-5, b)) / 2e-5
        predicted = -k / dchi
        print(f"    sigma_b2={b:.3f}: s_crit mean field {mf:.5f}; N=100 {f100:.5f}: N (s_N - s_mf) = "
              f"{(f100 - mf) * 100:+.4f}; N=10 {f10:.5f}: N (s_N - s_mf) = {(f10 - mf) * 10:+.4f}; "
              f"linearised -K / chi_1' = {predicted:+.4f} (K = {k:.4f})")
        ok &= abs(f100 / mf - 1) < 5 / 100 and abs((f100 - mf) * 100 / predicted - 1) < 0.1
    # the O(1/N^2) left out of mean_cosine's first order: Monte Carlo of the exact reduced sampler (analysis
    # "mean_cosine", exact in law) at the finite-width boundary, rho = 1 - delta, slope (1 - E cos) / delta
    delta, b_mc = 1e-3, b_lines[len(b_lines) // 2]
    for n in TANH_WIDTHS:
        s_n = float(lines[n][len(b_lines) // 2])
        y = n * tanh_second_moment(q_star(s_n, b_mc))
        mc = sigdist.sweep("mean_cosine", rho=np.array([1.0 - delta]), width=n, sigma_w2=s_n / n, sigma_b2=b_mc,
                           activation="tanh", y0=y, n_networks=100_000 if args.quick else 1_000_000, client=client,
                           seed=1, progress=False)
        slope_mc = (1.0 - float(mc["cosine_mean"][0])) / delta
        se = float(mc["cosine_mean_se"][0]) / delta
        first = (1.0 - mean_cosine(Layer(n, s_n / n, b_mc, "tanh"), y, y, (1.0 - delta) * y).first_order) / delta
        z = (slope_mc - first) / se
        print(f"    Monte Carlo at the N={n} boundary (sigma_b2={b_mc:.3f}, s={s_n:.4f}, rho = 1 - {delta:g}): "
              f"slope {slope_mc:.5f} +- {se:.5f}, first order {first:.5f}: N^2 (MC - first order) = "
              f"{(slope_mc - first) * n * n:+.2f} (z = {z:+.1f})")
        ok &= abs(slope_mc - first) < 4 * se + (2.0 / n**2)  # the first order's O(1/N^2), ~1.7 / N^2 measured
    t_b = time.perf_counter()

    # (c) FM2
    widths = np.array([5, 10, 20, 50, 100] if args.quick else [5, 10, 20, 30, 50, 70, 100, 150, 200])
    depths = np.arange(1, 51 if args.quick else 201)
    ratio = fm2_diagram(widths, depths, client)
    exact = np.expm1(depths[None, :] * np.log1p(5.0 / widths[:, None]))
    rel = float(np.max(abs(ratio / exact - 1)))
    x = (depths[None, :] / widths[:, None])
    wide = widths >= 20
    c_fit = float(np.sum(x[wide] * np.log1p(ratio[wide])) / np.sum(x[wide] ** 2))
    per_width = [float(np.sum(x[i] * np.log1p(ratio[i])) / np.sum(x[i] ** 2)) for i in range(widths.size)]
    print(f"(c) FM2 widths {widths.tolist()}, depths 1..{depths[-1]}: "
          f"max rel |ratio / ((1+5/N)^d - 1) - 1| = {rel:.1e}")
    print("    fitted c per width (log(1 + Var/E^2) = c d/N): "
          + ", ".join(f"N={w}: {c:.4f} (N log(1+5/N) = {w * math.log1p(5 / w):.4f})"
                      for w, c in zip(widths, per_width)))
    print(f"    pooled fit over N >= 20: c = {c_fit:.4f}; the exact limit 5; Theorem 5's exponents: lower 1/2, "
          f"Gaussian upper C_2 = 4 (exceeded: docs/errata.md)")
    ok &= rel < 1e-10 and abs(c_fit - 5) < 0.7 and c_fit > 4
    t_c = time.perf_counter()
    print(f"times: (a) {t_a - t0:.1f} s, (b) {t_b - t_a:.1f} s, (c) {t_c - t_b:.1f} s")

    from sigdist.plotting import finish_figure, pyplot, use_file_backend

    use_file_backend()
    plt = pyplot()
    fig, axes = plt.subplots(3, 3, figsize=(15, 13))
    for ax, (n, (alpha, atom, _, _)) in zip(axes[0], relu.items()):
        image = ax.pcolormesh(s_a, np.arange(b_a.size), np.log10(alpha.T), shading="nearest", cmap="viridis",
                              vmin=-1.0, vmax=2.0)
        ax.contour(s_a, np.arange(b_a.size), alpha.T, levels=[1.0, 2.0], colors=["w", "r"])
        ax.set_yticks(np.arange(b_a.size), [f"{b:g}" for b in b_a])
        ax.set_xlabel(r"$s = N\sigma_w^2$")
        ax.set_ylabel(r"$\sigma_b^2$")
        ax.set_title(f"(a) relu N={n}: $\\log_{{10}}\\alpha$ (clipped to [-1, 2]); white $\\alpha=1$, red $\\alpha=2$\n"
                     f"atom after {ATOM_DEPTH} layers: {atom[0, -1]:.3g} ($\\sigma_b^2>0$), "
                     f"{atom[0, 0]:.3g} ($\\sigma_b^2=0$)", fontsize=9)
        fig.colorbar(image, ax=ax)
    ax = axes[1, 0]
    for n, (alpha, _, _, _) in relu.items():
        ax.semilogy(s_a, alpha[:, 0], label=f"N={n}")
    ax.axhline(2, color="r", lw=0.7, ls="--")
    ax.axhline(1, color="k", lw=0.7, ls="--")
    ax.axvline(2, color="k", lw=0.5, ls=":")
    ax.set_xlabel(r"$s = N\sigma_w^2$ (any $\sigma_b^2$)")
    ax.set_ylim(1e-3, 500)
    ax.set_ylabel(r"tail index $\alpha$ (below 1e-3: ~2^-N / drift)")
    ax.set_title("(a) alpha depends on (s, N) only; He (s=2): alpha=1", fontsize=9)
    ax.legend(fontsize=8)
    for ax, (n, ds) in zip(axes[1, 1:], tanh.items()):
        image = ax.pcolormesh(s_b, b_b, ds["slope_finite"].values.T, shading="nearest", cmap="coolwarm", vmin=0.5,
                              vmax=1.5)
        ax.contour(s_b, b_b, ds["slope_finite"].values.T, levels=[1.0], colors="k")
        ax.plot(lines["mean field"], b_lines, "w--", label="mean field $\\chi_1 = 1$")
        ax.plot(lines[n], b_lines, "k.", label=f"N={n}: slope at $\\rho=1$ is 1")
        ax.set_xlabel(r"$s = N\sigma_w^2$")
        ax.set_ylabel(r"$\sigma_b^2$")
        ax.set_title(f"(b) tanh N={n}: slope of the mean cosine map at $\\rho = 1$\n(order < 1 < chaos)", fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
        fig.colorbar(image, ax=ax)
    ax = axes[2, 0]
    image = ax.pcolormesh(depths, np.arange(widths.size), np.log10(ratio), shading="nearest", cmap="magma")
    ax.set_yticks(np.arange(widths.size), [str(w) for w in widths])
    ax.set_xlabel("depth d")
    ax.set_ylabel("width N")
    ax.set_title(r"(c) FM2: $\log_{10}$ Var$[M_d]$/E$[M_d]^2$ (He relu)", fontsize=9)
    fig.colorbar(image, ax=ax)
    ax = axes[2, 1]
    for i, n in enumerate(widths):
        ax.semilogy(x[i], ratio[i], lw=1, label=f"N={n}")
    grid = np.linspace(0, x.max(), 200)
    ax.semilogy(grid[1:], np.expm1(5 * grid[1:]), "k--", label=r"$e^{5 d/N} - 1$")
    ax.semilogy(grid[1:], np.expm1(4 * grid[1:]), "k:", label=r"$e^{4 d/N} - 1$ (Thm 5, $C_2=4$)")
    ax.set_xlabel(r"$\sum_j 1/n_j = d/N$")
    ax.set_ylabel(r"Var$[M_d]$/E$[M_d]^2$")
    ax.set_title(f"(c) collapse on d/N; pooled fit c = {c_fit:.3f}", fontsize=9)
    ax.legend(fontsize=7)
    ax.set_xlim(0, 5)
    ax.set_ylim(1e-2, 1e11)
    ax = axes[2, 2]
    ax.plot(widths, per_width, "o", label="fitted c (sweep)")
    n_line = np.geomspace(widths[0], widths[-1], 100)
    ax.plot(n_line, n_line * np.log1p(5 / n_line), "k-", lw=0.8, label="N log(1 + 5/N) (exact)")
    ax.axhline(5, color="k", ls="--", lw=0.8, label="5 (wide limit)")
    ax.axhline(4, color="k", ls=":", lw=0.8, label="Thm 5 upper $C_2 = 4$")
    ax.set_xscale("log")
    ax.set_xlabel("width N")
    ax.set_ylabel("c in Var/E$^2$ = exp(c d/N) - 1")
    ax.set_title("(c) the FM2 exponent per width", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return finish_figure(fig, args.out, ok, dpi=90)


if __name__ == "__main__":
    sys.exit(main())
