"""Fig. 3 of Hanin & Rolnick (2018): FM2, E[empirical variance of M_1..M_d], for the architectures of §3.3.

    python validation/fig3_architectures.py [--quick] [--out fig3_architectures.png]

He normal (Gaussian, 2/fan-in), no biases, M_0 = 1, architectures (i) alternating 30 / 10, (ii) 30 then 10,
(iii) 10 then 30, (iv) constant 15, (v) constant 20, depths 10..100 (hidden widths n_1..n_d follow the
pattern, n_0 = n_1). Exact E[Var^[M]] (sigdist.lengths.empirical_variance) against sum_j 1/n_j, and the exact
E[M_d^2] = prod (1 + 5/n_j), which depends on the widths only through their multiset. Real networks (4000,
5000 with --quick) check depths 4 and 6 of every architecture (z < 4); deeper,
naive Monte Carlo is dominated by rare runs and its standard error is not trustworthy.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from sigdist import Network
from sigdist.lengths import length_moments


def architecture(kind, d):
    half = d // 2
    if kind == "i":
        return [30 if j % 2 == 0 else 10 for j in range(d)]
    if kind == "ii":
        return [30] * half + [10] * (d - half)
    if kind == "iii":
        return [10] * half + [30] * (d - half)
    return [15 if kind == "iv" else 20] * d


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="fig3_architectures.png")
    args = ap.parse_args(argv)
    depths = np.arange(10, 101, 10)
    kinds = ("i", "ii", "iii", "iv", "v")
    ok = True
    table = {}
    print(f"{'arch':>4} {'d':>4} {'sum 1/n_j':>9} {'E[Var^[M]]':>12} {'E[M_d^2]':>11}")
    for kind in kinds:
        rows = []
        for d in depths:
            widths = architecture(kind, d)
            r = length_moments(Network.he([widths[0], *widths]))
            rows.append((float(np.sum(1.0 / np.array(widths))), r.empirical_variance(), r.length_second_moment[-1]))
            if d in (10, 50, 100):
                print(f"{kind:>4} {d:>4} {rows[-1][0]:>9.4f} {rows[-1][1]:>12.5g} {rows[-1][2]:>11.5g}")
        table[kind] = np.array(rows)
    # (i)-(iii): the same multiset of widths at even depth: E[M_d^2] agrees, E[Var^] depends on the order
    for d_idx, d in enumerate(depths):
        m2 = [table[k][d_idx, 2] for k in ("i", "ii", "iii")]
        ok &= bool(np.ptp(m2) < 1e-12 * max(m2))
    spread = max(table[k][-1, 1] for k in ("i", "ii", "iii", "iv")) / min(table[k][-1, 1] for k in ("i", "ii", "iii", "iv"))
    print(f"d = 100: E[Var^] of (i)-(iv) within a factor {spread:.3f} of each other; (v) {table['v'][-1, 1]:.4g} "
          f"vs (iv) {table['iv'][-1, 1]:.4g}")
    ok &= bool(np.all(table["v"][:, 1] < table["iv"][:, 1]))
    try:
        from sigdist.montecarlo import simulate
    except ImportError:
        simulate = None
        print("torch missing: no Monte Carlo check")
    if simulate is not None:
        # naive Monte Carlo of E[Var^] is only trustworthy at small depth: the estimator is carried by rare
        # runs (E[M_d^2] = prod (1 + 5/n_j)) and at d >= 10 its sample s.e. underestimates the error badly
        n_net = 5000 if args.quick else 40_000
        for k_idx, kind in enumerate(kinds):
            for d in (4, 6):
                widths = architecture(kind, d)
                net = Network.he([widths[0], *widths])
                m = simulate(net, np.ones(widths[0]), n_net, seed=100 * k_idx + d, device="cpu").squared_norms[:, :, 0]
                m = m / np.array(widths)
                emp = np.mean(m ** 2, axis=1) - np.mean(m, axis=1) ** 2
                exact = length_moments(net).empirical_variance()
                z = (emp.mean() - exact) / (emp.std(ddof=1) / np.sqrt(n_net))
                ok &= abs(z) < 4
                print(f"  ({kind}) d={d}: MC {emp.mean():.4g} +- {emp.std(ddof=1) / np.sqrt(n_net):.2g}, exact {exact:.4g}, z = {z:+.2f}")
    from sigdist.plotting import finish_figure, pyplot, use_file_backend

    use_file_backend()
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for kind in kinds:
        axes[0].semilogy(depths, table[kind][:, 1], marker="o", ms=3, label=f"({kind})")
        axes[1].semilogy(table[kind][:, 0], table[kind][:, 1], marker="o", ms=3, label=f"({kind})")
    axes[0].set_xlabel("depth d")
    axes[1].set_xlabel(r"$\sum_j 1/n_j$")
    for ax in axes:
        ax.set_ylabel(r"exact $E[\widehat{Var}[M]]$")
        ax.legend(fontsize=7)
    return finish_figure(fig, args.out, ok)


if __name__ == "__main__":
    sys.exit(main())
