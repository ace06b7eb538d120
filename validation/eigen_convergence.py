"""How the discrete eigenvalues of T converge under grid refinement and what grid truncation does to them.

    python validation/eigen_convergence.py [--quick] [--out eigen_convergence.png]

sigma_b > 0 (N = 10, sigma_w^2 = 0.05, sigma_b^2 = 0.1): the operator has the exact eigenvalues
1 (the stationary law), sigma_w^2 E[S] and sigma_w^4 E[S^2] (E[z'|z] and E[z'^2|z] are affine and
quadratic in z). The discrete ones converge to them geometrically in the grid spacing while the grid
holds the stationary law; truncating the grid's right end below the law's tail lowers the Perron
eigenvalue by the mass it leaks (1 - lambda_1 ~ P(z > end)).
sigma_b = 0 (He, N = 20): the Mellin eigenfunctions y^m are not in L^1, so the spectrum of T on
densities is continuous; on a truncated grid the discrete eigenvalues fill the range of lambda_m
over the window the grid allows, and approach 1 from below as the grid widens.
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings

import numpy as np

from sigdist import Layer, SigdistWarning, TransitionOperator
from sigdist.grid import LogGrid
from sigdist.stationary import discrete_eigen, stationary_law


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="eigen_convergence.png")
    args = ap.parse_args(argv)
    layer = Layer(10, 0.05, 0.1)
    exact = [1.0, 0.05 * 5, 0.05**2 * 10 * 15 / 4]
    op = TransitionOperator(layer)
    base = stationary_law(op).grid
    factors = [4, 2, 1.5, 1.0] if args.quick else [6, 4, 3, 2, 1.5, 1.25, 1.0]
    rows = []
    print("refinement (sigma_b > 0): spacing, |lambda_i - exact_i| for i = 1..3")
    for f in factors:
        h = base.spacing * f
        grid = LogGrid(base.start, h, int(math.ceil((base.end - base.start) / h)) + 1)
        with warnings.catch_warnings():  # coarse on purpose: the study is of what coarseness costs
            warnings.simplefilter("ignore", SigdistWarning)
            vals = discrete_eigen(op, k=3, grid=grid).eigenvalues
        err = [abs(v.real - e) for v, e in zip(vals, exact)]
        rows.append((h, err))
        print(f"  h = {h:.4f}: " + "  ".join(f"{e:.2e}" for e in err))
    ok = rows[-1][1][1] < 1e-8 and rows[0][1][1] > rows[-1][1][1]
    print("truncation (sigma_b > 0): grid end, 1 - lambda_1, lambda_2 - sigma_w^2 E[S]")
    trunc = []
    for end in ([-0.5, 1.0, 2.5, base.end] if args.quick else [-1.0, 0.0, 1.0, 2.0, 3.0, 4.0, base.end]):
        n = int(round((end - base.start) / base.spacing)) + 1
        grid = LogGrid(base.start, base.spacing, n)
        vals = discrete_eigen(op, k=2, grid=grid).eigenvalues
        trunc.append((grid.end, 1 - vals[0].real, vals[1].real - exact[1]))
        print(f"  end = {grid.end:7.2f}: {1 - vals[0].real:.2e}  {vals[1].real - exact[1]:+.2e}")
    print("sigma_b = 0, He N = 20: leading eigenvalues against grid width (spacing 0.1)")
    he = TransitionOperator(Layer(20, 0.1))
    widths = [10, 20, 40] if args.quick else [10, 20, 40, 80]
    he_rows = []
    for w in widths:
        grid = LogGrid(-w / 2, 0.1, int(w / 0.1) + 1)
        vals = discrete_eigen(he, k=4, grid=grid).eigenvalues
        he_rows.append((w, np.abs(vals)))
        print(f"  width {w:3d}: " + "  ".join(f"{abs(v):.8f}" for v in vals))
    ok &= all(b[1][1] >= a[1][1] for a, b in zip(he_rows, he_rows[1:]))  # lambda_2 rises towards 1
    ok &= all(b[1] <= a[1] for a, b in zip(trunc, trunc[1:]))  # a longer grid leaks less
    from sigdist.plotting import finish_figure, pyplot, use_file_backend

    use_file_backend()
    plt = pyplot()

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    hs = [r[0] for r in rows]
    for i in range(3):
        axes[0].semilogy(hs, [max(r[1][i], 1e-17) for r in rows], "o-", label=f"$\\lambda_{i + 1}$")
    axes[0].set_xlabel("grid spacing h (log z)")
    axes[0].set_ylabel("|discrete - exact|")
    axes[0].set_title("refinement, $\\sigma_b > 0$")
    axes[0].legend()
    axes[1].semilogy([t[0] for t in trunc], [max(t[1], 1e-17) for t in trunc], "o-", label="$1 - \\lambda_1$")
    axes[1].semilogy([t[0] for t in trunc], [max(abs(t[2]), 1e-17) for t in trunc], "s-",
                     label="$|\\lambda_2 - \\sigma_w^2 E S|$")
    axes[1].set_xlabel("grid end (log z)")
    axes[1].set_title("truncation, $\\sigma_b > 0$")
    axes[1].legend()
    for w, v in he_rows:
        axes[2].plot(range(1, v.size + 1), v, "o-", label=f"grid width {w}")
    axes[2].set_xlabel("index")
    axes[2].set_ylabel("|eigenvalue|")
    axes[2].set_title("He N=20, $\\sigma_b = 0$ (atom eigenvalue 1 first)")
    axes[2].legend(fontsize=7)
    return finish_figure(fig, args.out, ok, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
