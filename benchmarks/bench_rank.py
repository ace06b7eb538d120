"""The BN rank chain: time per chain step beside the notebook-style loop and beside the hardware floors.

    python benchmarks/bench_rank.py [--device cpu|cuda] [--quick]

Per chain step at d = N in {32, 128, 512}, every statistic recorded at every step (r(H) and the soft rank
rank_1/2), float64 unless stated:

* baseline: the loop a user has today (the 2020 notebooks, re-implemented faithfully): one chain, torch,
  the d x N matrix H, ``H = BN(H + gamma W H)``, r(H) from ``M = H H^T / N`` and the soft rank from
  ``torch.linalg.svdvals`` (the removed ``torch.matrix_rank`` was SVD-based), ``.item()`` into Python lists;
  in float32 (torch's default, what the notebooks ran) and in float64;
* sigdist: ``RankChain`` with ``n_networks`` chains in one batch (numpy backend: numba ziggurat streams in
  threads, BLAS matmuls, soft rank by LDL^T inertia), with all statistics and with the soft rank thinned
  to every 100th step; on CUDA the torch backend;
* floors: flops of the issue's definition, 2 matmuls of d^3 (4 d^3 flops) over the measured dgemm peak;
  sigdist's own flops (2 d^3 for W L, 2 d^3 for the Gram of r(H)) over peak; and the d^2 normals per step
  over the generator's measured rate on all cores.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from sigdist import Network
from sigdist.rank_chain import RankChain
from sigdist.weights import WEIGHT_LAWS
from _timing import best_time


def notebook_loop(d, gamma, steps, dtype, device="cpu"):
    import torch

    H = torch.randn(d, d, dtype=dtype, device=device)
    rs, ranks = [], []
    for _ in range(steps):
        W = torch.randn(d, d, dtype=dtype, device=device)
        H = H + gamma * W @ H
        H = H / torch.sqrt((H ** 2).mean(dim=1, keepdim=True))
        M = H @ H.T / d
        rs.append((torch.trace(M) ** 2 / (M ** 2).sum()).item())
        s = torch.linalg.svdvals(H)
        ranks.append(int((s ** 2 / d >= 0.5).sum().item()))
    return rs, ranks


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    import torch

    cuda = args.device.startswith("cuda")
    dev = torch.device(args.device)
    a = np.random.default_rng(0).standard_normal((1024, 1024))
    peak = 2 * 1024 ** 3 / best_time(lambda: a @ a)
    rng = np.random.default_rng(0)
    buf = np.empty(1 << 22)
    gaussian = WEIGHT_LAWS["gaussian"]
    gaussian.fill(rng, buf[:10])  # compile the numba kernel first
    normal_rate = buf.size / best_time(lambda: gaussian.fill(rng, buf)) * (os.cpu_count() or 1)
    print(f"CPU: {os.cpu_count()} cores, dgemm peak {peak / 1e9:.1f} GFlop/s, numba ziggurat "
          f"{normal_rate / 1e9:.2f} G normals/s on all cores; torch {torch.__version__}, device {dev}")
    gamma = 0.5
    print(f"{'d':>5} {'chains':>6} {'baseline f32':>13} {'baseline f64':>13} {'sigdist':>10} {'r only':>10} "
          f"{'x f32':>7} {'x f64':>7} {'issue floor':>11} {'own floor':>10} {'rng floor':>10} {'/floors':>8}")
    for d, chains in ((32, 16), (128, 8), (512, 2)):
        steps_base = {32: 400, 128: 100, 512: 8}[d] // (4 if args.quick else 1)
        steps = {32: 2000, 128: 300, 512: 20}[d] // (4 if args.quick else 1)
        base32 = best_time(lambda: notebook_loop(d, gamma, steps_base, torch.float32, dev), 2) / steps_base
        base64 = best_time(lambda: notebook_loop(d, gamma, steps_base, torch.float64, dev), 2) / steps_base
        backend = dict(backend="torch", device=args.device) if cuda else {}

        def run(soft_thin):
            spec = Network.bn_chain(d, gamma=gamma)
            # warm up numba and the BLAS threads on a throwaway chain: a continued run keeps its settings
            RankChain(spec, n_networks=chains, seed=1, **backend).run(2, tau=0.5, progress=False)
            chain = RankChain(spec, n_networks=chains, seed=0, **backend)
            t0 = time.perf_counter()
            chain.run(steps, tau=0.5, soft_rank_thin=soft_thin, progress=False)
            if cuda:
                torch.cuda.synchronize()
            return (time.perf_counter() - t0) / (steps * chains)

        t_all = min(run(1) for _ in range(2))
        t_r = min(run(min(100, steps)) for _ in range(2))  # quick runs are shorter than 100 steps
        issue_floor = 4 * d ** 3 / peak
        own_floor = (4 * d ** 3) / peak
        rng_floor = d * d / normal_rate
        floor = max(own_floor, rng_floor)
        print(f"{d:>5} {chains:>6} {base32 * 1e3:>10.3f} ms {base64 * 1e3:>10.3f} ms {t_all * 1e3:>7.3f} ms "
              f"{t_r * 1e3:>7.3f} ms {base32 / t_all:>7.1f} {base64 / t_all:>7.1f} {issue_floor * 1e3:>8.3f} ms "
              f"{own_floor * 1e3:>7.3f} ms {rng_floor * 1e3:>7.3f} ms {t_all / floor:>8.1f}")
    print("x f32 / x f64: baseline time over sigdist's (all statistics every step), per chain step; "
          "/floors: sigdist over max(own flop floor, rng floor)")


if __name__ == "__main__":
    main()
