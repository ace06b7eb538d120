"""Fig. 1a of Hanin & Rolnick (2018): E[M_d] against depth for the initialisers users call (width = depth).

    python validation/fig1a_initializers.py [--quick] [--out fig1a_initializers.png]

Exact E[M_d] / M_0 = prod_j fan_in_j E[W_j^2] / 2 (sigdist.lengths.length_moments, input x0 = ones) for
He normal, He normal truncated at 2 sigma (PyTorch trunc_normal_, Keras <= 2.1 he_normal), He uniform,
2x He normal, LeCun normal / uniform, Glorot normal / uniform, depths 10..100 (width = depth), beside real
networks (sigdist.montecarlo.simulate, 1000 networks, 200 with --quick) at a few depths. Checks: every Monte
Carlo mean within 4 standard errors of the exact one; truncated He normal decays as 0.7737^d (7e-12 at d = 100).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from sigdist.initializers import KNOWN_INITIALIZERS, initializer_network
from sigdist.lengths import length_moments


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="fig1a_initializers.png")
    args = ap.parse_args(argv)
    depths = np.arange(10, 101, 10)
    curves = {name: np.array([length_moments(initializer_network(name, [d] * (d + 1)), x0=np.ones(d)).length_mean[-1]
                              for d in depths]) for name in KNOWN_INITIALIZERS}
    ok = bool(np.allclose(curves["he_normal_truncated"], 0.7737413035499232 ** depths, rtol=1e-10))
    print(f"{'initializer':>20} " + " ".join(f"{'d=' + str(d):>9}" for d in depths))
    for name, c in curves.items():
        print(f"{name:>20} " + " ".join(f"{v:>9.3g}" for v in c))
    try:
        from sigdist.montecarlo import simulate
    except ImportError:
        simulate = None
        print("torch missing: no Monte Carlo check")
    n_net = 200 if args.quick else 1000
    checks = (10, 20) if args.quick else (10, 30, 50)
    if simulate is not None:
        print(f"Monte Carlo of real networks ({n_net} networks, input ones):")
        for k, name in enumerate(("he_normal_truncated", "he_uniform", "glorot_uniform")):
            for d in checks:
                m = simulate(initializer_network(name, [d] * (d + 1)), np.ones(d), n_net, seed=1000 * k + d,
                             device="cpu").squared_norms[:, -1, 0] / d
                exact = curves[name][list(depths).index(d)]
                z = (m.mean() - exact) / (m.std(ddof=1) / np.sqrt(n_net))
                ok &= abs(z) < 4
                print(f"  {name:>20} d={d:>3}: MC {m.mean():.4g} +- {m.std(ddof=1) / np.sqrt(n_net):.2g}, exact {exact:.4g}, z = {z:+.2f}")
    from sigdist.plotting import finish_figure, pyplot, use_file_backend

    use_file_backend()
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    # initialisers with the same weight variance have the same curve: one line, their names joined
    groups = []
    for name, c in curves.items():
        for group in groups:
            if np.allclose(curves[group[0]], c, rtol=1e-12, atol=0.0):
                group.append(name)
                break
        else:
            groups.append([name])
    for group in groups:
        ax.semilogy(depths, curves[group[0]], marker="o", ms=3, label=" = ".join(group))
    ax.set_xlabel("depth d (= width)")
    ax.set_ylabel(r"exact $E[M_d] / M_0$")
    ax.legend(fontsize=7, ncol=2)
    return finish_figure(fig, args.out, ok)


if __name__ == "__main__":
    sys.exit(main())
