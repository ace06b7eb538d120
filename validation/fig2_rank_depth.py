"""Fig. 2 and Lemma 3 of Daneshmand et al. (2020): rank of the hidden representations against depth, BN
against vanilla, linear and ReLU; and the Lyapunov spectrum behind the vanilla collapse.

    python validation/fig2_rank_depth.py [--quick] [--out fig2_rank_depth.png]

Left: log numerical rank (rtol = 1e-7 d, the torch.matrix_rank convention of the paper) of H_l for width
d = 128 (32 with --quick), batch N = d, Gaussian inputs, 10 networks, for linear / relu with and without
BN (BN before the activation, mean-centred for relu), beside the Lyapunov prediction for vanilla linear
nets, #{i : (mu_1 - mu_i) l < ln(1/rtol)}. Right: r(H_l) for the same nets.
Checks: the Benettin QR estimate of the Gaussian Lyapunov spectrum matches the closed form
mu_i = [ln 2 + psi((d - i + 1)/2)] / 2 within the 1e-3 family-wise limit of d z-scores (exact
standard errors); residual products (gamma = 0.1, 0.5)
keep a positive top gap mu_1 - mu_2 (Lemma 3: collapse to rank one even with skips); at the last layer
BN nets keep r(H) above the vanilla nets'. The vanilla linear rank is printed beside the leading-order
Lyapunov count (not asserted: it ignores the O(sqrt l) and O(1) terms of log sigma_i, worth several
indices at d = 128 where neighbouring exponents differ by about 1/(2(d - i))).
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np
from scipy import stats
from scipy.special import polygamma

from sigdist import Layer, Network
from sigdist.lyapunov import gaussian_lyapunov_exponents, lyapunov_spectrum
from sigdist.rank_profile import hidden_rank_profile


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="fig2_rank_depth.png")
    args = ap.parse_args(argv)
    d = 32 if args.quick else 128
    depth = 30 if args.quick else 100
    n_networks = 4 if args.quick else 10
    rtol = 1e-7 * d
    ok = True

    steps = 100 if args.quick else 1000
    linear = Layer(d, 1.0, activation="linear")
    lyap = lyapunov_spectrum(linear, steps, n_networks=8, seed=1)
    exact = gaussian_lyapunov_exponents(linear)
    # each log R_ii is an independent (1/2) log chi^2_{d-i+1}: the exact standard error of the estimate
    exact_se = 0.5 * np.sqrt(polygamma(1, (d - np.arange(d)) / 2.0) / (steps * 8))
    z = (lyap.exponents - exact) / exact_se
    limit = stats.norm.isf(0.0005 / d)  # d z-scores at once: family-wise false alarm 1e-3
    ok &= bool(np.all(np.abs(z) < limit))
    print(f"Gaussian Lyapunov spectrum, d = {d}: max |z| against the closed form {np.abs(z).max():.2f} "
          f"(limit {limit:.2f}); "
          f"mu_1 = {lyap.exponents[0]:.4f} (exact {exact[0]:.4f}), mu_d = {lyap.exponents[-1]:.4f} ({exact[-1]:.4f})")
    for gamma in (0.1, 0.5):
        res = lyapunov_spectrum(Layer(d, 1.0, activation="linear", gamma=gamma), 2000 if args.quick else 20000, k=2,
                                n_networks=8, seed=2)
        gap = res.samples[:, 0] - res.samples[:, 1]
        gap_z = gap.mean() / (gap.std(ddof=1) / math.sqrt(len(gap)))
        ok &= bool(gap_z > 4)
        print(f"residual I + {gamma} W: mu_1 - mu_2 = {gap.mean():.5f} +- {gap.std(ddof=1) / math.sqrt(len(gap)):.5f} "
              f"(> 0: collapse to rank one, Lemma 3)")

    profiles = {}
    for activation in ("linear", "relu"):
        for bn in (False, True):
            network = (Network.bn_chain(d, depth, activation=activation) if bn
                       else Network.constant(d, depth, 1.0, activation=activation))
            profiles[activation, bn] = hidden_rank_profile(network, center=(bn and activation == "relu"),
                                                           n_networks=n_networks, rtol=rtol, seed=3)
    layers = np.arange(depth + 1)
    predicted = np.array([np.count_nonzero((exact[0] - exact) * l < math.log(1 / rtol)) for l in layers])
    vanilla = profiles["linear", False].numerical_rank
    # leading order only: log(sigma_i / sigma_1) = -(mu_1 - mu_i) l + O(sqrt l) + O(1), and near the threshold
    # one index moves log sigma by only l / (2 (d - i)), so the count is shown, not asserted
    print(f"vanilla linear numerical rank at depth {depth}: {vanilla[-1]:.1f}; leading-order Lyapunov count "
          f"{predicted[-1]}")
    print(f"{'layer':>5} " + " ".join(f"{a + (' BN' if b else ''):>12}" for a, b in profiles) + f" {'Lyapunov':>9}")
    for l in sorted({1, 2, 5, 10, depth // 2, depth}):
        print(f"{l:>5} " + " ".join(f"{p.numerical_rank[l]:>7.1f}/{p.rank_bound[l]:<4.1f}" for p in profiles.values())
              + f" {predicted[l]:>9d}")
    print("(numerical rank / r(H))")
    for activation in ("linear", "relu"):
        bn, van = profiles[activation, True], profiles[activation, False]
        ok &= bool(bn.rank_bound[-1] - van.rank_bound[-1] > 4 * math.hypot(bn.rank_bound_se[-1], van.rank_bound_se[-1]))

    from sigdist.plotting import finish_figure, pyplot, use_file_backend

    use_file_backend()
    plt = pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for (activation, bn), p in profiles.items():
        label = f"{activation}{' + BN' if bn else ''}"
        ax1.plot(layers, np.log(p.numerical_rank), label=label)
        ax2.plot(layers, p.rank_bound, label=label)
    ax1.plot(layers, np.log(np.maximum(predicted, 1)), "k:", label="Lyapunov (linear)")
    ax1.set_xlabel("layer")
    ax1.set_ylabel(f"log numerical rank (rtol = {rtol:.1e})")
    ax2.set_xlabel("layer")
    ax2.set_ylabel("r(H)")
    ax2.set_yscale("log")
    ax1.legend(fontsize=7)
    return finish_figure(fig, args.out, ok, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
