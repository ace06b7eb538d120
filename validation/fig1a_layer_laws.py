"""Fig. 1a of Burkholz & Dubatovka (2019): laws of |x_l|^2, l = 1..9, He init, N = 200, beside real networks.

    python validation/fig1a_layer_laws.py [--quick] [--out fig1a.png]

Prints, per layer, the exact law's mean/std/quantiles, and the Monte Carlo check of real dense
networks (mean z-score, KS distance and its p-value); writes the figure. --quick simulates
300 networks instead of 20000. The paper's claim checked: the mean is preserved (He) while the
law widens and grows a heavier right tail with depth.
"""

from __future__ import annotations

import argparse
import sys

from sigdist.demo import run_demo


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="fig1a_layer_laws.png")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    laws, samples = run_demo(200, 9, 300 if args.quick else 20000, args.seed, args.out)
    stds = [law.std() for law in laws]
    widening = all(b > a for a, b in zip(stds, stds[1:]))
    preserved = all(abs(law.mean() - 1) < 1e-9 for law in laws)
    print(f"mean preserved to 1e-9: {preserved}; std grows with depth: {widening}")
    return 0 if (preserved and widening) else 1


if __name__ == "__main__":
    sys.exit(main())
