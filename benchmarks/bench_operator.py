"""The exact law of |x_L|^2 (He, N = 200, L = 9, tol 1e-8) beside what a user does today, and the
operator build beside its memory-bandwidth floor. Ratios in one run.

    python benchmarks/bench_operator.py [--quick]

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
"""

from __future__ import annotations

import argparse
import math
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


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
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
