"""Fig. 3b of Daneshmand et al. (2020): BN amplifies small variations of nearly collinear inputs.

    python validation/fig3b_collinear.py [--quick] [--out fig3b_collinear.png]

Inputs X = u 1^T + eps G (d = N = 64, 32 with --quick; eps = 1e-4; u, G Gaussian): r(X) is 1 to within
eps^2. The linear BN chain (gamma = 0.5, Gaussian weights) runs 10 independent chains from X; the top 10
values sigma_i^2 / N of H_l are tracked for l = 0..60. Checks: the top value falls (BN spreads the
energy), the second rises by more than six orders of magnitude, and by the last layers the mean of r(H_l)
is within 5 standard errors of the stationary long-run mean from RankChain started at Gaussian inputs.
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from sigdist import Network
from sigdist.batchnorm import bn_step
from sigdist.rank_chain import RankChain
from sigdist.rank import rank_bound


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="fig3b_collinear.png")
    args = ap.parse_args(argv)
    d = 32 if args.quick else 64
    depth, gamma, eps, n_networks = 60, 0.5, 1e-4, 10
    rng = np.random.default_rng(0)
    X = np.outer(rng.standard_normal(d), np.ones(d)) + eps * rng.standard_normal((d, d))
    spectra = np.zeros((n_networks, depth + 1, 10))
    r = np.zeros((n_networks, depth + 1))
    for k in range(n_networks):
        H = X.copy()
        for l in range(depth + 1):
            if l:
                H = bn_step(H, rng.standard_normal((d, d)), gamma)
            spectra[k, l] = np.sort(np.linalg.eigvalsh(H @ H.T / d))[::-1][:10]
            r[k, l] = rank_bound(H)
    mean_spec = spectra.mean(0)
    print(f"d = N = {d}, gamma = {gamma}, eps = {eps}: r(X) = {rank_bound(X):.8f}")
    print(f"{'layer':>5} " + " ".join(f"{'s' + str(i + 1):>9}" for i in range(4)) + f" {'r(H)':>7}")
    for l in (0, 1, 2, 5, 10, 20, 40, 60):
        print(f"{l:>5} " + " ".join(f"{v:>9.2e}" for v in mean_spec[l, :4]) + f" {r[:, l].mean():>7.3f}")
    stationary = RankChain(Network.bn_chain(d, gamma=gamma), n_networks=4, seed=1).run(4000, burn_in=400, tau=0.5,
                                                                                    progress=False)
    tail = r[:, 2 * depth // 3:].mean(1)  # one value per independent chain, past the transient
    z = (tail.mean() - stationary.r_mean) / math.hypot(tail.std(ddof=1) / math.sqrt(n_networks),
                                                      stationary.r_mean_se)
    print(f"mean r(H) over layers {2 * depth // 3}..{depth}: {tail.mean():.3f}; stationary E[r] {stationary.r_mean:.3f} "
          f"+- {stationary.r_mean_se:.3f} (z = {z:.2f})")
    ok = bool(mean_spec[-1, 0] < mean_spec[0, 0] and mean_spec[-1, 1] > 1e6 * mean_spec[0, 1] and abs(z) < 5)
    from sigdist.plotting import finish_figure, pyplot, use_file_backend

    use_file_backend()
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for i in range(10):
        ax.plot(np.arange(depth + 1), mean_spec[:, i], color=plt.cm.viridis(i / 9))
    ax.set_yscale("log")
    ax.set_xlabel("layer")
    ax.set_ylabel("top 10 sigma_i^2 / N (mean of 10 chains)")
    return finish_figure(fig, args.out, ok, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
