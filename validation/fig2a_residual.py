"""Fig. 2a of Hanin & Rolnick (2018): the mean length E[M_L^res] of residual nets against the number of modules.

    python validation/fig2a_residual.py [--quick] [--out fig2a_residual.png]

Residual width 5, modules of one relu hidden layer of width 5 (He weights, no biases), scales eta_l = 1 and
eta_l = b^l, b in {0.5, 0.75, 0.9}, L = 1..30 (1..12 with --quick). Two module models:

* linear read-out (x + eta W2 relu(W1 x)): exact E[M_L] = M_0 prod (1 + 2 eta_l^2)
  (sigdist.residual_lengths.residual_length_moments), checked against real networks;
* relu read-out (x + eta relu(W2 relu(W1 x)), the paper's Definition: relu on every layer,
  ResidualNetwork.uniform): no closed recursion; Monte Carlo of real networks (40000 networks, 4000 quick).

For each model the script fits log E[M_L] against sum eta_l and against sum eta_l^2 over the four scale
families and prints the residuals of both fits: the linear read-out follows sum eta^2 (exactly), the relu
read-out follows sum eta (the cross term 2 eta <x, N(x)> > 0 is first order in eta). Checks: linear-read-out
Monte Carlo within 4 standard errors of the exact values at L = 5 and L_max.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from sigdist import ResidualNetwork
from sigdist.residual_lengths import linear_readout_residual, residual_length_moments

WIDTH, HIDDEN = 5, [5]


def scales(kind, L):
    ell = np.arange(1, L + 1)
    return np.ones(L) if kind == 1.0 else kind ** ell


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="fig2a_residual.png")
    args = ap.parse_args(argv)
    L = 12 if args.quick else 30
    n_net = 4000 if args.quick else 40_000
    x0 = np.ones(WIDTH)  # M_0 = 1
    kinds = (1.0, 0.9, 0.75, 0.5)
    ok = True
    exact, mc_relu, mc_relu_se = {}, {}, {}
    try:
        from sigdist.montecarlo import simulate
    except ImportError:
        simulate = None
        print("torch missing: no Monte Carlo")
    for kind in kinds:
        etas = scales(kind, L)
        exact[kind] = residual_length_moments(linear_readout_residual(WIDTH, HIDDEN, etas), x0=x0).length_mean
        if simulate is None:
            continue
        m_lin = simulate(linear_readout_residual(WIDTH, HIDDEN, etas), x0, n_net, seed=int(100 * kind),
                         device="cpu").squared_norms[:, :, 0] / WIDTH
        for l in (4, L - 1):
            se = m_lin[:, l].std(ddof=1) / np.sqrt(n_net)
            z = (m_lin[:, l].mean() - exact[kind][l]) / se
            ok &= abs(z) < 4
            print(f"linear read-out, eta={'1' if kind == 1 else f'{kind}^l'}, L={l + 1}: exact {exact[kind][l]:.5g}, "
                  f"MC {m_lin[:, l].mean():.5g} +- {se:.2g} (z = {z:+.2f})")
        m = simulate(ResidualNetwork.uniform(WIDTH, HIDDEN, list(etas)), x0, n_net, seed=int(100 * kind) + 1,
                     device="cpu").squared_norms[:, :, 0] / WIDTH
        mc_relu[kind], mc_relu_se[kind] = m.mean(axis=0), m.std(axis=0, ddof=1) / np.sqrt(n_net)
    print(f"\n{'eta':>6} {'L':>3} {'sum eta':>8} {'sum eta^2':>9} {'E[M] lin (exact)':>16} {'E[M] relu (MC)':>15} {'s.e.':>8}")
    for kind in kinds:
        etas = scales(kind, L)
        for l in sorted({0, 4, L // 2, L - 1}):
            relu = f"{mc_relu[kind][l]:>15.5g} {mc_relu_se[kind][l]:>8.2g}" if kind in mc_relu else ""
            print(f"{'1' if kind == 1 else f'{kind}^l':>6} {l + 1:>3} {etas[:l + 1].sum():>8.3f} "
                  f"{(etas[:l + 1] ** 2).sum():>9.3f} {exact[kind][l]:>16.6g} {relu}")

    def fit(values):
        """Slopes and rms residuals of log E[M] against sum eta and against sum eta^2, all families pooled."""
        out = {}
        for label, power in (("sum eta", 1), ("sum eta^2", 2)):
            xs = np.concatenate([np.cumsum(scales(k, L) ** power) for k in kinds])
            ys = np.concatenate([np.log(values[k]) for k in kinds])
            slope = float(xs @ ys / (xs @ xs))
            out[label] = (slope, float(np.sqrt(np.mean((ys - slope * xs) ** 2))))
        return out

    for name, values in (("linear read-out (exact)", exact), ("relu read-out (Monte Carlo)", mc_relu)):
        if len(values) < len(kinds):
            continue
        f = fit(values)
        print(f"{name}: log E[M_L] ~ {f['sum eta'][0]:.3f} sum eta (rms residual {f['sum eta'][1]:.3f}), "
              f"~ {f['sum eta^2'][0]:.3f} sum eta^2 (rms residual {f['sum eta^2'][1]:.3f})")
    # eta_l = 1/l separates the two criteria: sum eta = inf, sum eta^2 < inf (Theorem 6, eq. 8)
    harmonic = 1.0 / np.arange(1, 1001)
    lin = residual_length_moments(linear_readout_residual(WIDTH, HIDDEN, harmonic), x0=x0).length_mean
    limit = float(np.prod(1 + 2 * harmonic ** 2))
    print(f"eta_l = 1/l, linear read-out (exact): E[M_L] = {lin[9]:.5f}, {lin[99]:.5f}, {lin[999]:.5f} at L = 10, "
          f"100, 1000: bounded (prod (1 + 2/l^2) -> sinh(pi sqrt 2)/(pi sqrt 2) = "
          f"{np.sinh(np.pi * np.sqrt(2)) / (np.pi * np.sqrt(2)):.5f})")
    ok &= abs(lin[-1] / limit - 1) < 1e-12 and lin[-1] < np.sinh(np.pi * np.sqrt(2)) / (np.pi * np.sqrt(2))
    if simulate is not None:
        for L_h in ((10, 20) if args.quick else (10, 30, 100)):
            m = simulate(ResidualNetwork.uniform(WIDTH, HIDDEN, list(harmonic[:L_h])), x0, n_net, seed=L_h,
                         device="cpu").squared_norms[:, -1, 0] / WIDTH
            print(f"eta_l = 1/l, relu read-out (MC): E[M_{L_h}] = {m.mean():.4g} +- {m.std(ddof=1) / np.sqrt(n_net):.2g}"
                  f"  (sum eta = {harmonic[:L_h].sum():.3f})")
    from sigdist.plotting import finish_figure, pyplot, use_file_backend

    use_file_backend()
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ell = np.arange(1, L + 1)
    for kind in kinds:
        label = r"$\eta_\ell = 1$" if kind == 1 else rf"$\eta_\ell = {kind}^\ell$"
        axes[0].semilogy(ell, exact[kind], label=label)
        if kind in mc_relu:
            axes[1].errorbar(ell, mc_relu[kind], yerr=mc_relu_se[kind], label=label, capsize=2)
    axes[0].set_title("linear read-out: exact")
    axes[1].set_title("relu read-out (paper's Definition): Monte Carlo")
    for ax in axes:
        ax.set_yscale("log")
        ax.set_xlabel("modules L")
        ax.set_ylabel(r"$E[M_L^{res}] / M_0$")
        ax.legend(fontsize=7)
    return finish_figure(fig, args.out, ok)


if __name__ == "__main__":
    sys.exit(main())
