"""Does parameter sharing preserve the cosine similarity? He vs GSM vs looks-linear over depth (§3).

    python validation/parameter_sharing.py [--quick] [--out parameter_sharing.png]

Width 20, 20 layers (10 with --quick), unit inputs whose signal cosine is 0.3 (for the shared networks the
signal is d = x[:N/2] - x[N/2:]). Printed and plotted per layer: the mean cosine of the ReLU outputs x
and of the signal, with standard errors. Findings checked: looks-linear keeps the signal's cosine
exactly and the law of the output cosine fixed over depth; GSM keeps the signal's scalar product on
average while its cosine spreads out; He drives the output cosine towards 1.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from sigdist import Network
from sigdist.correlation import pair_samples, shared_pair_samples


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="parameter_sharing.png")
    args = ap.parse_args(argv)
    width, depth, c0 = 20, (10 if args.quick else 20), 0.3
    n = 5000 if args.quick else 100_000
    he = pair_samples(Network.constant(width, depth, 2 / width), 1.0, 1.0, c0, n_networks=n, seed=1)
    gsm = shared_pair_samples(Network.gsm([width] * (depth + 1)), 1.0, 1.0, c0, n_networks=n, seed=2)
    ll = shared_pair_samples(Network.looks_linear([width] * (depth + 1)), 1.0, 1.0, c0, n_networks=n, seed=3)
    rows = {name: (s.cosine_mean, s.cosine_mean_se) for name, s in (
        ("He (x)", he), ("GSM (x)", gsm), ("GSM (signal)", gsm.signal), ("looks-linear (x)", ll),
        ("looks-linear (signal)", ll.signal))}
    print(f"{'layer':>5} " + " ".join(f"{k:>22}" for k in rows))
    for l in range(depth):
        print(f"{l + 1:>5} " + " ".join(f"{m[l]:>14.4f} +- {s[l]:.4f}" for m, s in rows.values()))
    ok = bool(np.allclose(ll.signal.cosines, c0, atol=1e-12))
    ok &= rows["He (x)"][0][-1] > rows["He (x)"][0][0]
    ok &= abs(rows["looks-linear (x)"][0][-1] - rows["looks-linear (x)"][0][0]) < 5 * rows["looks-linear (x)"][1][-1]
    from sigdist.plotting import finish_figure, pyplot, use_file_backend

    use_file_backend()
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(7, 4.5))
    layers = np.arange(1, depth + 1)
    for name, (m, s) in rows.items():
        ax.errorbar(layers, m, yerr=2 * s, label=name, capsize=2, ls="--" if "signal" in name else "-")
    ax.set_xlabel("layer")
    ax.set_ylabel("mean cosine similarity")
    ax.set_title(f"N={width}, input signal cosine {c0}")
    ax.legend(fontsize=8)
    return finish_figure(fig, args.out, ok, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
