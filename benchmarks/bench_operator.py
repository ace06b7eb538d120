"""The exact law of |x_L|^2 (He, N = 200, L = 9, tol 1e-8) beside what a user does today, the operator
build beside its memory-bandwidth floor, and every other activation's law beside the lattice route
and Monte Carlo. Ratios in one run.

    python benchmarks/bench_operator.py [--quick] [--only-activations]

Baselines:
  * Monte Carlo of real networks to a sup-norm CDF error of 1e-3 at 95 % confidence: by the DKW
    inequality n = ln(2/0.05) / (2 * 1e-3^2) = 1.84e6 networks; the time per network is measured on a
    batch and multiplied out.
  * naive dense quadrature of eq. 7: the kernel matrix k(y_i, z_j) from scipy.stats chi2.pdf summed over
    k in a Python loop on a uniform z grid, then one matrix-vector product per layer. Its CDF error is
    measured at two grid sizes; the size for 1e-8 and its cost (n^2 N) are extrapolated from the
    measured rate.
Floor of the operator build: bytes of the dense matrix written, over the write bandwidth measured here
(numpy fill of an array of the same size).

Activations (tanh, erf, gelu, silu, sigmoid, softplus, sin, leaky_relu(0.2)): one layer, N = 100,
sigma_w2 = 2/N, sigma_b2 = 0.05, |x^(0)|^2 = N (pre-activation variance 2.05), tol 1e-8 (the issue's
target: <= 50 ms for tanh and gelu), and a tanh network of depth 5 (``layer_laws``; target <= 1 s).
Beside them:
  * the lattice route (``method="lattice"``): its CDF error is measured against the default route's law
    at 200 quantiles, at two lattice sizes; the size for the default route's error estimate and its time
    are extrapolated from the observed order and the observed time growth (at least linear in the size).
  * Monte Carlo on the exact reduced chain (Prop. 1: z = sum_i phi(sqrt(s) g_i)^2, numpy), the cheapest
    sampler: n = 1 / (4 e^2) samples give a CDF standard error sqrt(F(1 - F) / n) <= e, e the default
    route's error estimate; the time per sample is measured on a batch and multiplied out.
"ms" is the best wall time, "cpu ms" the best process CPU time (closer to an idle machine's wall time when
the machine is shared; the load average is printed first).
"""

from __future__ import annotations

import argparse
import math
import os
import time
import warnings

import numpy as np
from scipy import stats

import sigdist
from sigdist.montecarlo import dense_squared_norms
from _timing import best_time


def naive_quadrature(width, depth, n, z_max):
    """Eq. 7 by scipy.stats in Python loops on a uniform grid: returns (cdf function, seconds)."""
    t0 = time.perf_counter()
    z = np.linspace(0, z_max, n + 1)[1:]
    dz = z[1] - z[0]
    weights = stats.binom(width, 0.5).pmf(np.arange(width + 1))
    s = 2.0 / width * z  # variance given y = z on the grid
    K = np.zeros((n, n))
    for k in range(1, width + 1):  # the naive loop a user writes
        if weights[k] < 1e-300:
            continue
        K += weights[k] * stats.chi2.pdf(z[None, :], k, scale=s[:, None])
    p = weights[1:] @ np.array([stats.chi2.pdf(z, k, scale=2.0 / width) for k in range(1, width + 1)])
    for _ in range(depth - 1):
        p = dz * (p @ K)
    cdf_grid = np.cumsum(p) * dz
    seconds = time.perf_counter() - t0
    return (lambda x: np.interp(x, z, cdf_grid)), seconds


def write_bandwidth(nbytes):
    a = np.empty(nbytes // 8)
    t = best_time(lambda: a.fill(1.0), repeat=5)
    return nbytes / t


ACTIVATIONS = ("tanh", "erf", "gelu", "silu", "sigmoid", "softplus", "sin", "leaky_relu")
SMOOTH_WIDTH, SMOOTH_B2 = 100, 0.05


def smooth_layer(name, width=SMOOTH_WIDTH):
    extra = {"negative_slope": 0.2} if name == "leaky_relu" else {}
    return sigdist.Layer(width, 2.0 / width, SMOOTH_B2, activation=name, **extra)


def lattice_comparison(net, y0, ref_law, sizes, target, keep_all=False):
    """The lattice route at ``sizes``: (measured CDF errors at the last layer, times, extrapolated size and time
    for the CDF error ``target``)."""
    x = ref_law.ppf(np.linspace(0.001, 0.999, 200))
    errs, times = [], []
    for n in sizes:
        t0 = time.perf_counter()
        laws = sigdist.layer_laws(net, y0, method="lattice", lattice_size=n)
        times.append(time.perf_counter() - t0)
        errs.append(float(np.max(np.abs(laws[-1].cdf(x) - ref_law.cdf(x)))))
    log_ratio = math.log(sizes[-1] / sizes[0])
    order = math.log(errs[0] / errs[-1]) / log_ratio
    growth = max(1.0, math.log(times[-1] / times[0]) / log_ratio)  # the lattice is at least read once
    n_eq = sizes[-1] * (errs[-1] / target) ** (1 / max(order, 1e-3))
    return errs, times, order, n_eq, times[-1] * (n_eq / sizes[-1]) ** growth


def reduced_chain_seconds(net, y0, n, seed=0):
    """Seconds per sample of the exact reduced chain z_l = sum_i phi(sqrt(s_l) g_i)^2 (numpy), from n samples."""
    rng = np.random.default_rng(seed)

    def run():
        z = np.full(n, float(y0))
        for layer in net:
            s = layer.sigma_w2 * z + layer.sigma_b2
            z = np.sum(layer.activation(np.sqrt(s)[:, None] * rng.standard_normal((n, layer.width))) ** 2, axis=1)
        return z

    return best_time(run, repeat=2) / n


def activation_benchmarks(quick):
    """Each activation's one-layer law (N = 100, tol 1e-8) and tanh depth 5, beside the lattice route and
    Monte Carlo at equal accuracy."""
    y0 = float(SMOOTH_WIDTH)
    sizes = (1024, 4096) if quick else (2048, 16384)
    n_mc = 2000 if quick else 20000
    print(f"\nactivations: N={SMOOTH_WIDTH}, sigma_w2=2/N, sigma_b2={SMOOTH_B2}, |x0|^2=N, tol 1e-8; lattice at "
          f"{sizes[0]} and {sizes[1]} points; Monte Carlo: exact reduced chain (numpy), n = 1/(4 est^2)")
    print(f"{'activation':<16}{'route':>8}{'grid':>6}{'ms':>8}{'cpu ms':>8}{'estimate':>10}{'lattice err':>22}{'order':>6}"
          f"{'lattice s (eq.)':>16}{'ratio':>9}{'MC s (eq.)':>11}{'ratio':>9}")
    cases = [(name, 1) for name in ACTIVATIONS] + [("tanh", 5)]
    for name, depth in cases:
        try:
            layer = smooth_layer(name)
        except ValueError as err:  # an activation this version does not know
            print(f"{name:<16} skipped: {err}")
            continue
        net = sigdist.Network([layer] * depth)
        route = sigdist.TransitionOperator(layer).route
        sigdist.layer_laws(net, y0)  # compile and warm up
        t_law = best_time(lambda: sigdist.layer_laws(net, y0, tol=1e-8), repeat=2 if depth > 1 else 5)
        t_cpu = best_time(lambda: sigdist.layer_laws(net, y0, tol=1e-8), repeat=2 if depth > 1 else 5,
                          clock=time.process_time)
        law = sigdist.layer_laws(net, y0, tol=1e-8)[-1]
        est = max(law.error_estimate, 1e-16)
        if depth > 1 and quick:
            lat = "(full run only)"
            lat_eq = ratio_lat = float("nan")
            order = float("nan")
        else:  # the lattice route's cost grows like depth * size^2 (the issue: ~2 min at depth 5, 2048 points)
            errs, _, order, n_eq, lat_eq = lattice_comparison(net, y0, law, sizes if depth == 1 else (512, 1024), est)
            lat = f"{errs[0]:.1e} -> {errs[1]:.1e}"
            ratio_lat = lat_eq / t_law
        t_mc = reduced_chain_seconds(net, y0, n_mc) / (4 * est**2)
        label = name if depth == 1 else f"{name} depth {depth}"
        print(f"{label:<16}{route:>8}{law.grid.size:>6}{t_law * 1e3:>8.1f}{t_cpu * 1e3:>8.1f}{law.error_estimate:>10.1e}{lat:>22}"
              f"{order:>6.2f}{lat_eq:>16.2e}{ratio_lat:>9.1e}{t_mc:>11.2e}{t_mc / t_law:>9.1e}")


def grid_check_benchmarks(quick):
    """The log grid's refinement check (``sigdist.fourier.mixed_log_density``): the coarse interpolant's CDF
    halfway between its nodes and the fine grid's at them, by one inverse FFT each, beside the direct sum per
    point (what it did before; points x modes) and beside the floor (the FFTs' arrays over write bandwidth)."""
    from sigdist.grid import LogGrid, LogGridDensity

    print("\nlog grid check (coarse CDF between its nodes, fine CDF at them): FFT beside the direct sum per point")
    print(f"{'points':>8}{'FFT ms':>10}{'direct ms':>12}{'ratio':>9}{'floor ms':>10}{'ratio':>8}{'max diff':>10}")
    for size in (1 << 10, 1 << 12) if quick else (1 << 12, 1 << 14):
        grid = LogGrid(-40.0, 50.0 / (size - 1), size)
        q = np.exp(-0.5 * (grid.points + 3.0) ** 2 / 9.0) / math.sqrt(2.0 * math.pi * 9.0)
        fine = LogGrid(grid.start, 0.5 * grid.spacing, 2 * size - 1)
        q_fine = np.exp(-0.5 * (fine.points + 3.0) ** 2 / 9.0) / math.sqrt(2.0 * math.pi * 9.0)
        mid = fine.points[1::2]

        def by_fft():
            return LogGridDensity(grid, q).cdf_between_nodes() - LogGridDensity(fine, q_fine).cdf_at_nodes()[1::2]

        def direct():
            return LogGridDensity(grid, q).cdf_u(mid) - LogGridDensity(fine, q_fine).cdf_u(mid)

        diff = float(np.max(np.abs(by_fft() - direct())))
        t_fft, t_direct = best_time(by_fft, repeat=5), best_time(direct, repeat=1 if size > 1 << 12 else 3)
        floor = 3 * 16 * 4 * size / write_bandwidth(16 * 4 * size)  # three transforms of 4n complex values
        print(f"{size:>8}{t_fft * 1e3:>10.2f}{t_direct * 1e3:>12.1f}{t_direct / t_fft:>9.0f}{floor * 1e3:>10.3f}"
              f"{t_fft / floor:>8.0f}{diff:>10.1e}")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only-activations", action="store_true", help="skip the relu and operator-build cases")
    args = ap.parse_args(argv)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average (1 min) at start: {load:.2f} on {os.cpu_count()} CPUs")
    if not args.only_activations:
        relu_benchmarks(args.quick)
    activation_benchmarks(args.quick)
    grid_check_benchmarks(args.quick)


def relu_benchmarks(quick):
    args = argparse.Namespace(quick=quick)
    width, depth = 200, 9
    net = sigdist.Network.constant(width, depth, 2.0 / width)
    sigdist.squared_norm_law(net, 1.0)  # compile and warm up
    t_exact = best_time(lambda: sigdist.squared_norm_law(net, 1.0, tol=1e-8), repeat=10)
    law = sigdist.squared_norm_law(net, 1.0, tol=1e-8)
    print(f"sigdist exact law, He N={width} L={depth}, tol 1e-8: {t_exact * 1e3:.2f} ms "
          f"(grid {law.grid.size} points, error estimate {law.error_estimate:.1e})")

    batch = 100 if args.quick else 1000
    x0 = np.zeros(width)
    x0[0] = 1.0
    t_batch = best_time(lambda: dense_squared_norms(net, x0, batch, seed=0), repeat=1 if args.quick else 2)
    n_mc = math.log(2 / 0.05) / (2 * 1e-3**2)
    t_mc = t_batch / batch * n_mc
    print(f"Monte Carlo of real networks: {t_batch / batch * 1e3:.2f} ms/network; "
          f"{n_mc:.3g} networks for CDF error 1e-3 -> {t_mc:.0f} s;  ratio MC / sigdist = {t_mc / t_exact:.2e}")

    ref = law.ppf(np.linspace(0.001, 0.999, 400))
    sizes = (200, 400) if args.quick else (400, 800)
    errs, times = [], []
    for n in sizes:
        cdf, sec = naive_quadrature(width, depth, n, 6.0)
        errs.append(float(np.max(np.abs(cdf(ref) - law.cdf(ref)))))
        times.append(sec)
        print(f"naive quadrature n={n}: {sec:.2f} s, CDF error {errs[-1]:.2e}")
    rate = math.log(errs[0] / errs[1]) / math.log(sizes[1] / sizes[0])
    n_needed = sizes[1] * (errs[1] / 1e-8) ** (1 / max(rate, 1e-3))
    t_naive = times[1] * (n_needed / sizes[1]) ** 2
    print(f"naive quadrature: observed order {rate:.2f}; n for 1e-8 ~ {n_needed:.3g} -> ~{t_naive:.3g} s; "
          f"ratio naive / sigdist = {t_naive / t_exact:.2e}")

    n_grid = 4096
    layer = net[0]
    grid = sigdist.grid.LogGrid(-8.0, 16.0 / n_grid, n_grid)
    op = sigdist.TransitionOperator(layer, grid=grid)
    buffer = np.empty((n_grid, n_grid))
    op.matrix(out=buffer)
    t_build = best_time(lambda: op.matrix(out=buffer), repeat=5)
    t_alloc = best_time(op.matrix, repeat=3)
    nbytes = n_grid * n_grid * 8
    bw = write_bandwidth(nbytes)
    floor = nbytes / bw
    print(f"operator build (dense {n_grid}x{n_grid} Toeplitz matrix, {nbytes / 1e6:.0f} MB): {t_build * 1e3:.1f} ms; "
          f"floor {floor * 1e3:.1f} ms at {bw / 1e9:.1f} GB/s written;  build / floor = {t_build / floor:.2f}"
          f"  (with a fresh allocation, page faults included: {t_alloc * 1e3:.1f} ms)")


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        main()
