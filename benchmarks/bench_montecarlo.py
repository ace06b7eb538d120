"""Monte Carlo engine: networks per second, full and reduced samplers, beside the generator's own rate.

    python benchmarks/bench_montecarlo.py [--device cpu|cuda] [--quick] [--widths 200 1000] [--depth 9]

He network of width N and depth L = 9, one input, float64. The floor for each sampler is the time the torch
generator needs for the normals that sampler draws (L N^2 per network for full networks, L N for the reduced
sampler), measured in the same run on the same device. Reported per width: networks/s, the share of the
generator rate reached (floor / time; the GPU target is >= 0.5 for both samplers at N = 200 and 1000), and the
reduced sampler's speed-up over full networks (target >= N / 4). The number of networks is set by a budget of
normals (``--budget``, default 4e7 on the CPU and 1e9 on CUDA -- 8 GB of float64 normals timed in one call; a
tenth with ``--quick``).
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


def measure(n, depth, device, budget, repeat=3):
    """One dict for width ``n``: seconds per network of both samplers and of their generator floors."""
    net = sigdist.Network.he([n] * (depth + 1))
    x = np.zeros(n)
    x[0] = 1.0
    n_full = max(4, int(budget // (depth * n * n)))
    n_reduced = max(100, min(int(budget // (depth * n)), 10 ** 6))
    gen = torch.Generator(device=device).manual_seed(0)
    count_full = n_full * depth * n * n
    count_reduced = n_reduced * depth * n
    t_gen_full = timed(lambda: torch.randn(count_full, generator=gen, dtype=torch.float64, device=device), device,
                       repeat)
    t_gen_red = timed(lambda: torch.randn(count_reduced, generator=gen, dtype=torch.float64, device=device), device,
                      repeat)
    simulate(net, x, 4, seed=0, device=device, method="full", progress=False)  # warm up
    simulate(net, x, 4, seed=0, device=device, method="reduced", progress=False)
    t_full = timed(lambda: simulate(net, x, n_full, seed=0, device=device, method="full", progress=False), device,
                   repeat)
    t_red = timed(lambda: simulate(net, x, n_reduced, seed=0, device=device, method="reduced", progress=False),
                  device, repeat)
    return dict(width=n, n_full=n_full, n_reduced=n_reduced, full=t_full / n_full, full_floor=t_gen_full / n_full,
                reduced=t_red / n_reduced, reduced_floor=t_gen_red / n_reduced, rate=count_full / t_gen_full)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="auto")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--widths", type=int, nargs="+", default=[200])
    ap.add_argument("--width", type=int, help="one width (the same as --widths N)")
    ap.add_argument("--depth", type=int, default=9)
    ap.add_argument("--budget", type=float, help="normals drawn per timed call (sets the number of networks)")
    args = ap.parse_args(argv)
    device = resolve_device(args.device)
    widths = [args.width] if args.width else args.widths
    budget = args.budget or (1e9 if device.type == "cuda" else 4e7) / (10 if args.quick else 1)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device {device} ({name}), torch {torch.__version__}, He L={args.depth}, float64")
    for n in widths:
        row = measure(n, args.depth, device, budget)
        print(f"N={n}: generator {row['rate'] / 1e6:.0f} M normals/s")
        print(f"full networks:    {1 / row['full']:>12.0f} networks/s; generator floor "
              f"{1 / row['full_floor']:>12.0f}/s; share of generator rate {row['full_floor'] / row['full']:.2f}")
        print(f"reduced sampler:  {1 / row['reduced']:>12.0f} networks/s; generator floor "
              f"{1 / row['reduced_floor']:>12.0f}/s; share of generator rate "
              f"{row['reduced_floor'] / row['reduced']:.2f}")
        print(f"reduced / full speed-up: {row['full'] / row['reduced']:.0f}x (target >= N/4 = {n / 4:.0f})")


if __name__ == "__main__":
    main()
