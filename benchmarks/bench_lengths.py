"""Exact length moments at depth 10^4 beside Monte Carlo at equal standard error and beside a floor.

    python benchmarks/bench_lengths.py [--quick]

He normal, width 100, depth 10^4 (M_0 = 1). sigdist.lengths.length_moments on a prebuilt Network (the
log-space recursion: E[M_j], E[M_j^2], Var[M_j] for every j) and the same plus E[empirical variance]. Monte
Carlo: the exact reduced chain of |x_l|^2 (numpy; N normals per layer per network, the cheapest exact
sampler) estimates E[M_d]; its cost for a standard error equal to the exact route's float64 accuracy
(relative 1e-12) is extrapolated from the measured per-network time and variance. Also the cost for a
modest relative s.e. of 1e-3. Floor: one pass of numpy over the d x 4 state (np.cumsum over 4 d floats).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sigdist import Network
from sigdist.lengths import length_moments
from _timing import best_time


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    width, depth = 100, 1000 if args.quick else 10_000
    net = Network.he([width] * (depth + 1))
    length_moments(net)  # numba compile
    t_exact = best_time(lambda: length_moments(net), repeat=5)
    t_emp = best_time(lambda: length_moments(net).empirical_variance(), repeat=5)
    state = np.ones(4 * depth)
    t_floor = best_time(lambda: np.cumsum(state), repeat=20)
    exact = length_moments(net)
    print(f"exact moments, d = {depth}, N = {width}: {t_exact * 1e3:.2f} ms (with E[empirical variance] "
          f"{t_emp * 1e3:.2f} ms); floor {t_floor * 1e6:.1f} us -> {t_exact / t_floor:.0f} x floor")
    # Monte Carlo on the exact reduced chain: z_l = sigma_w2 z_{l-1} * chi2-mixture, M_d = z_d / N
    n_mc = 200 if args.quick else 1000
    rng = np.random.default_rng(0)

    def mc():
        z = np.full(n_mc, float(width))
        for _ in range(depth):
            g = rng.standard_normal((n_mc, width))
            z = (2.0 / width) * z * np.sum(np.maximum(g, 0.0) ** 2, axis=1)
        return z / width

    t0 = time.perf_counter()
    m = mc()
    t_mc = time.perf_counter() - t0
    per_network = t_mc / n_mc
    rel_sd = float(np.sqrt(exact.length_variance[-1]) / exact.length_mean[-1])  # exact sd of M_d / E[M_d]
    print(f"Monte Carlo (reduced chain, numpy): {per_network * 1e3:.2f} ms per network; sample mean {m.mean():.3g} "
          f"(exact {exact.length_mean[-1]:.3g}); exact relative sd of M_d {rel_sd:.3g}")
    for target in (1e-3, 1e-12):
        n_needed = (rel_sd / target) ** 2
        t_needed = n_needed * per_network
        print(f"  relative s.e. {target:g}: {n_needed:.3g} networks, {t_needed:.3g} s = {t_needed / t_exact:.3g} x exact")


if __name__ == "__main__":
    main()
