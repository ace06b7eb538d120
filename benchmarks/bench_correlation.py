"""The pair chain (two inputs) per layer per network, beside full-network Monte Carlo and the generator floor.

    python benchmarks/bench_correlation.py [--quick]

He relu, N = 200, 10 layers, two inputs. sigdist.pairs.pair_samples (numpy, exact reduced sampler: 2N
normals per layer per network) against sigdist.montecarlo.simulate(method="full") (real networks, N^2
normals per layer per network), and against the floor: numpy's generator drawing the pair chain's normals.
"""

from __future__ import annotations

import argparse

import numpy as np

from sigdist import Network
from sigdist.pairs import pair_samples
from _timing import best_time


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    width, depth = 200, 10
    net = Network.he([width] * (depth + 1))
    n_pair = 5000 if args.quick else 50_000
    t_pair = best_time(lambda: pair_samples(net, 1.0, 1.0, 0.5, n_networks=n_pair, seed=0))
    rng = np.random.default_rng(0)
    t_floor = best_time(lambda: rng.standard_normal((depth, 2, n_pair, width)) if args.quick else
                   [rng.standard_normal((2, n_pair, width)) for _ in range(depth)])
    per_pair = t_pair / (n_pair * depth)
    print(f"pair chain: {per_pair * 1e9:.0f} ns per network-layer; generator floor {t_floor / (n_pair * depth) * 1e9:.0f} ns;"
          f"  time / floor = {t_pair / t_floor:.2f}")
    try:
        from sigdist.montecarlo import simulate
    except ImportError:
        print("torch missing: no full-network comparison")
        return
    n_full = 200 if args.quick else 1000
    x = np.zeros((2, width))
    x[0, 0] = 1.0
    x[1, 0], x[1, 1] = 0.5, np.sqrt(0.75)
    t_full = best_time(lambda: simulate(net, x, n_full, seed=0, method="full"), repeat=2)
    per_full = t_full / (n_full * depth)
    print(f"full networks (torch, CPU): {per_full * 1e6:.1f} us per network-layer;  full / pair chain = {per_full / per_pair:.0f}x")


if __name__ == "__main__":
    main()
