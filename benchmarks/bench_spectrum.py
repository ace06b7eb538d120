"""Leading eigenpairs of a 4096-point operator and the stationary law, beside power iteration and the flop floor.

    python benchmarks/bench_spectrum.py [--quick]

Layer N = 10, sigma_w^2 = 0.12, sigma_b^2 = 0.1 on a 4096-point log grid over its stationary law.
sigdist: ARPACK (implicitly restarted Arnoldi) on the augmented matrix, k = 4. Baseline: power
iteration for the Perron pair to the same residual (1e-12), the naive way. Floor: the matrix-vector
products the method needs, 2 n^2 flops each, at the dense matvec rate measured here (numpy/BLAS),
plus building the matrix once.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import scipy.sparse.linalg

from sigdist import Layer, TransitionOperator
from sigdist.grid import LogGrid
from sigdist.stationary import augmented_matrix, stationary_law


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    n = 1024 if args.quick else 4096
    layer = Layer(10, 0.12, 0.1)
    op = TransitionOperator(layer)
    t0 = time.perf_counter()
    law = stationary_law(op)
    t_stationary = time.perf_counter() - t0
    base = law.grid
    grid = LogGrid(base.start, (base.end - base.start) / (n - 2), n - 1)  # n states with the atom
    t0 = time.perf_counter()
    A = augmented_matrix(op, grid)
    t_build = time.perf_counter() - t0

    count = {"matvec": 0}

    def matvec(v):
        count["matvec"] += 1
        return A @ v

    lin = scipy.sparse.linalg.LinearOperator(A.shape, matvec=matvec, dtype=np.float64)
    t0 = time.perf_counter()
    vals, vecs = scipy.sparse.linalg.eigs(lin, k=4, which="LM", tol=1e-12)
    t_arpack = time.perf_counter() - t0
    order = np.argsort(-np.abs(vals))
    vals = vals[order]

    v = np.ones(A.shape[0])
    v /= np.linalg.norm(v)
    t0 = time.perf_counter()
    steps = 0
    while True:
        w = A @ v
        lam = v @ w
        steps += 1
        if np.linalg.norm(w - lam * v) < 1e-12 or steps > 100000:
            break
        v = w / np.linalg.norm(w)
    t_power = time.perf_counter() - t0

    x = np.random.default_rng(0).standard_normal(A.shape[0])
    reps = 50
    t0 = time.perf_counter()
    for _ in range(reps):
        A @ x
    t_mv = (time.perf_counter() - t0) / reps
    flops_rate = 2 * A.shape[0] ** 2 / t_mv
    floor = count["matvec"] * t_mv
    print(f"grid {n} states; stationary law (its own grid of {base.size} points): {t_stationary:.3f} s")
    print(f"matrix build: {t_build:.3f} s; dense matvec {t_mv * 1e3:.2f} ms ({flops_rate / 1e9:.2f} GFLOP/s)")
    print(f"ARPACK k=4: {t_arpack:.3f} s, {count['matvec']} matvecs; eigenvalues {np.round(vals.real, 10)}")
    print(f"  floor (its matvecs at the measured rate) {floor:.3f} s;  time / floor = {t_arpack / floor:.2f}")
    print(f"power iteration (Perron pair only, residual 1e-12): {t_power:.3f} s, {steps} steps;"
          f"  power / ARPACK = {t_power / t_arpack:.2f}")
    print(f"  exact: lambda_2 = sigma_w^2 E[S] = {0.12 * 5:.10f}; |lambda_2| / lambda_1 sets power iteration's "
          f"rate: steps ~ log(1e-12) / log(0.6) = {math.log(1e-12) / math.log(0.6):.0f}")


if __name__ == "__main__":
    main()
