"""Monte Carlo engine: networks per second, full and reduced samplers, beside the generator's own rate.

    python benchmarks/bench_montecarlo.py [--device cpu|cuda] [--quick]

He network, width N = 200, depth L = 9, one input, float64. The floor for each sampler is the time the
torch generator needs for the normals that sampler draws (L N^2 per network for full networks, L N for
the reduced sampler), measured in the same run on the same device. Reported: networks/s, the share of the
generator rate reached (floor / time), and the reduced sampler's speed-up over full networks
(target >= N / 4).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import sigdist
from sigdist.montecarlo import simulate
from sigdist._device import resolve_device


def timed(f, device, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        f()
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="auto")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--width", type=int, default=200)
    ap.add_argument("--depth", type=int, default=9)
    args = ap.parse_args(argv)
    device = resolve_device(args.device)
    n, depth = args.width, args.depth
    net = sigdist.Network.he([n] * (depth + 1))
    x = np.zeros(n)
    x[0] = 1.0
    n_full = 200 if args.quick else 2000
    n_reduced = 20000 if args.quick else 200000
    gen = torch.Generator(device=device).manual_seed(0)
    count_full = n_full * depth * n * n
    count_reduced = n_reduced * depth * n
    t_gen_full = timed(lambda: torch.randn(count_full, generator=gen, dtype=torch.float64, device=device), device)
    t_gen_red = timed(lambda: torch.randn(count_reduced, generator=gen, dtype=torch.float64, device=device), device)
    simulate(net, x, 10, seed=0, device=device, method="full")  # warm up
    t_full = timed(lambda: simulate(net, x, n_full, seed=0, device=device, method="full"), device)
    t_red = timed(lambda: simulate(net, x, n_reduced, seed=0, device=device, method="reduced"), device)
    rate = count_full / t_gen_full
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, He N={n} L={depth}, float64")
    print(f"generator: {rate / 1e6:.0f} M normals/s")
    print(f"full networks:    {n_full / t_full:>12.0f} networks/s; generator floor {n_full / t_gen_full:>12.0f}/s; "
          f"share of generator rate {t_gen_full / t_full:.2f}")
    print(f"reduced sampler:  {n_reduced / t_red:>12.0f} networks/s; generator floor {n_reduced / t_gen_red:>12.0f}/s; "
          f"share of generator rate {t_gen_red / t_red:.2f}")
    print(f"reduced / full speed-up: {(n_reduced / t_red) / (n_full / t_full):.0f}x (target >= N/4 = {n / 4:.0f})")


if __name__ == "__main__":
    main()
