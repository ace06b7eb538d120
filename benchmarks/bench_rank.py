r"""The BN rank chain: time per chain-step beside its floor and beside the notebook loop, in one run.

    python benchmarks/bench_rank.py [--device cpu|cuda] [--quick] [--repeat K]

Per chain-step at d = N, r(H) and the soft rank rank_{1/2} recorded at every step, float64:

* notebook: the loop a user has today (the 2020 notebooks, re-implemented faithfully): one chain, torch, the
  d x N matrix H, ``H = BN(H + gamma W H)``, r(H) from ``M = H H^T / N``, the soft rank from
  ``torch.linalg.svdvals`` (the removed ``torch.matrix_rank`` was SVD-based), ``.item()`` into Python lists;
  float32 (torch's default, what the notebooks ran) and float64;
* sigdist: ``RankChain`` (numpy backend: one compiled loop per chain, chains spread over the cores with one BLAS
  thread each; on CUDA the torch backend), every statistic at every step, and r(H) only (soft rank every 100th);
* floor (CPU): the step's exact arithmetic -- ``gemm`` W L (2 d^3 flops), the Gram by ``syrk`` (d^3), the
  inertia of G - tau I by ``sytrf`` (d^3 / 3): 10 d^3 / 3 flops -- over the dgemm peak measured in this run
  (n = 1024; the faster of one call on all cores and one single-thread call per core at once), or the d^2
  normals over the generator's rate on all cores, whichever is larger. ``syrk`` and ``sytrf`` never run faster
  than ``gemm``, so this is the strictest floor. Beside it, in CPU time (less disturbed on shared cores), the
  same floor per CPU-second of one thread, and the per-call floor: each call's flops over that call's own peak
  (dgemm, dsyrk, dsytrf at n = 1024, one thread);
* CUDA (``--device cuda``; ``--backend torch`` runs the same table on the CPU): chain-steps per second at
  d = 128, 512, 2048 and the ratio to the device's batched-GEMM rate (``torch.bmm`` of the chain stack, float64)
  for the step's matmul flops (``W L`` and the Gram, 4 d^3); the soft rank is ``eigvalsh`` there.

Timing: best of ``--repeat`` runs; the cores may be shared, so the floor is measured right beside.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.linalg import blas, lapack
from threadpoolctl import threadpool_limits

from sigdist import Network
from sigdist._rank_kernels import flops_per_step
from sigdist.rank_chain import RankChain
from sigdist.weights import WEIGHT_LAWS
from _timing import best_time

CORES = os.cpu_count() or 1
CASES = ((32, 16), (128, 8), (512, 2))  # (d = N, chains)


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


def _per_core(f, n):
    """Best time of ``n`` calls of ``f`` on every core at once (one BLAS thread each), per call and core."""
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(CORES) as pool:
        return best_time(lambda: list(pool.map(lambda _: [f() for _ in range(n)], range(CORES))), 3) / n


def peaks():
    """Peak rates at n = 1024: dgemm on all cores (wall clock: the faster of one multithreaded call and one
    single-thread call per core at once), and dgemm, dsyrk, dsytrf per CPU-second of one thread."""
    n = 1024
    a = np.asfortranarray(np.random.default_rng(0).standard_normal((n, n)) / np.sqrt(n))
    g = np.asfortranarray(a @ a.T - 0.5 * np.eye(n))
    one_call = 2 * n ** 3 / best_time(lambda: blas.dgemm(1.0, a, a), 3)
    per_core = 2 * n ** 3 / _per_core(lambda: blas.dgemm(1.0, a, a), 1) * CORES
    with threadpool_limits(1, user_api="blas"):
        cpu = {name: flops / best_time(f, 3, time.process_time) for name, flops, f in (
            ("gemm", 2 * n ** 3, lambda: blas.dgemm(1.0, a, a)), ("syrk", n ** 3, lambda: blas.dsyrk(1.0, a)),
            ("sytrf", n ** 3 / 3, lambda: lapack.dsytrf(g, lower=0, lwork=32 * n)))}
    return max(one_call, per_core), cpu


def normal_rate():
    """Normals per second of the numba ziggurat: (all cores, wall clock; per CPU-second)."""
    rng = np.random.default_rng(0)
    buf = np.empty(1 << 22)
    gaussian = WEIGHT_LAWS["gaussian"]
    gaussian.fill(rng, buf[:10])  # compile the numba kernel first
    return (buf.size / best_time(lambda: gaussian.fill(rng, buf)) * CORES,
            buf.size / best_time(lambda: gaussian.fill(rng, buf), 3, time.process_time))


def sigdist_step(d, chains, steps, soft_thin, repeat, **backend):
    """Best wall time and best CPU time (all threads) per chain-step of ``RankChain.run``."""
    spec = Network.bn_chain(d, gamma=0.5)
    # warm up numba and the BLAS threads on a throwaway chain: a continued run keeps its settings
    RankChain(spec, n_networks=chains, seed=1, **backend).run(2, tau=0.5, progress=False)
    wall = cpu = float("inf")
    for _ in range(repeat):
        chain = RankChain(spec, n_networks=chains, seed=0, **backend)
        t0, c0 = time.perf_counter(), time.process_time()
        chain.run(steps, tau=0.5, soft_rank_thin=soft_thin, progress=False)
        _sync(backend.get("device", "cpu"))
        wall, cpu = min(wall, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
    return wall / (steps * chains), cpu / (steps * chains)


def cpu_rows(quick=False, repeat=3):
    """One dict per d: sigdist's time per chain-step, the notebook loops', and the floors (seconds).

    Wall clock: ``floor`` over all cores. CPU time (``*_cpu``: CPU-seconds per chain-step, all threads summed,
    against the per-thread rates): less disturbed when other work shares the cores. The peaks are measured at the
    start and after every case, the generator's rate too, and the largest seen is kept (a peak is a maximum; a busy
    moment only lowers it).
    """
    import torch

    peak, cpu = peaks()
    rate, rate_cpu = normal_rate()
    rows = []
    for d, chains in CASES:
        steps_base = {32: 400, 128: 100, 512: 8}[d] // (4 if quick else 1)
        steps = {32: 4096, 128: 512, 512: 32}[d] // (4 if quick else 1)
        base32 = best_time(lambda: notebook_loop(d, 0.5, steps_base, torch.float32), 2) / steps_base
        base64 = best_time(lambda: notebook_loop(d, 0.5, steps_base, torch.float64), 2) / steps_base
        t_all, c_all = sigdist_step(d, chains, steps, 1, repeat)
        t_r, c_r = sigdist_step(d, chains, steps, min(100, steps), repeat)
        p, c = peaks()
        peak, cpu = max(peak, p), {k: max(v, c[k]) for k, v in cpu.items()}
        r, r_cpu = normal_rate()
        rate, rate_cpu = max(rate, r), max(rate_cpu, r_cpu)
        rows.append(dict(d=d, chains=chains, notebook32=base32, notebook64=base64, sigdist=t_all, r_only=t_r,
                         sigdist_cpu=c_all, r_only_cpu=c_r))
    for row in rows:  # the floors at the largest peaks seen in the whole run
        d = row["d"]
        f_all, f_r = flops_per_step(d, d), flops_per_step(d, d, soft_rank=False)
        by_call = 2 * d ** 3 / cpu["gemm"] + d ** 3 / cpu["syrk"]
        row.update(peak=peak, normal_rate=rate, peak_cpu=cpu, normal_rate_cpu=rate_cpu,
                   floor=max(f_all / peak, d * d / rate), floor_r=max(f_r / peak, d * d / rate),
                   floor_cpu=max(f_all / cpu["gemm"], d * d / rate_cpu),
                   floor_r_cpu=max(f_r / cpu["gemm"], d * d / rate_cpu),
                   call_floor_cpu=max(by_call + d ** 3 / 3 / cpu["sytrf"], d * d / rate_cpu),
                   # one core draws the normals and does the flops: their times add
                   sum_floor_cpu=f_all / cpu["gemm"] + d * d / rate_cpu)
    return rows


def _sync(device):
    import torch

    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def torch_rows(device, quick=False, repeat=3, cases=((128, 64), (512, 16), (2048, 4))):
    """The torch backend (CUDA; on the CPU to test this path): chain-steps per second beside ``torch.bmm``'s rate."""
    import torch

    rows = []
    for d, chains in cases:
        a = torch.randn(chains, d, d, dtype=torch.float64, device=device)
        torch.bmm(a, a)
        best = float("inf")
        for _ in range(3):
            _sync(device)
            t0 = time.perf_counter()
            for _ in range(10):
                torch.bmm(a, a)
            _sync(device)
            best = min(best, time.perf_counter() - t0)
        bmm_rate = 10 * 2 * chains * d ** 3 / best
        steps = max(4, {128: 400, 512: 100, 2048: 20}.get(d, 40) // (4 if quick else 1))
        t, _ = sigdist_step(d, chains, steps, 1, repeat, backend="torch", device=str(device))
        t_r, _ = sigdist_step(d, chains, steps, min(100, steps), repeat, backend="torch", device=str(device))
        rows.append(dict(d=d, chains=chains, sigdist=t, r_only=t_r, bmm_rate=bmm_rate, floor=4 * d ** 3 / bmm_rate))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--backend", choices=["numpy", "torch"], help="default: numpy on the CPU, torch on CUDA")
    args = ap.parse_args(argv)
    import torch

    print(f"load average {open('/proc/loadavg').read().split()[:3]}" if os.path.exists("/proc/loadavg") else "")
    if args.device.startswith("cuda") or args.backend == "torch":
        cuda = args.device.startswith("cuda")
        name = torch.cuda.get_device_name(args.device) if cuda else f"CPU, {torch.get_num_threads()} threads"
        print(f"device {args.device} ({name}), torch {torch.__version__}, float64")
        print(f"{'d':>5} {'chains':>6} {'chain-steps/s':>14} {'r only /s':>12} {'bmm GFlop/s':>12} {'4d^3/bmm':>10} "
              f"{'/floor':>7}")
        cases = ((128, 64), (512, 16), (2048, 4)) if cuda else ((32, 16), (128, 4))
        for row in torch_rows(args.device, args.quick, args.repeat, cases):
            print(f"{row['d']:>5} {row['chains']:>6} {1 / row['sigdist']:>14.0f} {1 / row['r_only']:>12.0f} "
                  f"{row['bmm_rate'] / 1e9:>12.0f} {row['floor'] * 1e6:>8.1f}us {row['sigdist'] / row['floor']:>7.1f}")
        return
    rows = cpu_rows(args.quick, args.repeat)
    w = rows[0]
    c = w["peak_cpu"]
    print(f"CPU: {CORES} cores; dgemm peak {w['peak'] / 1e9:.1f} GFlop/s on all cores; per CPU-second dgemm "
          f"{c['gemm'] / 1e9:.1f}, dsyrk {c['syrk'] / 1e9:.1f}, dsytrf {c['sytrf'] / 1e9:.1f} GFlop/s; numba ziggurat "
          f"{w['normal_rate'] / 1e9:.2f} G normals/s on all cores, {w['normal_rate_cpu'] / 1e9:.2f} per CPU-second; "
          f"torch {torch.__version__}")
    print(f"{'d':>4} {'chains':>6} {'notebook32':>10} {'notebook64':>10} {'sigdist':>9} {'floor':>9} {'/floor':>6} "
          f"{'/cpufl':>6} {'/callpk':>7} {'/sumfl':>6} {'r only':>9} {'floor':>9} {'/floor':>6} {'/cpufl':>6} {'nb64/sd':>7}"
          "   (ms per chain-step)")
    for w in rows:
        print(f"{w['d']:>4} {w['chains']:>6} {w['notebook32'] * 1e3:>10.3f} {w['notebook64'] * 1e3:>10.3f} "
              f"{w['sigdist'] * 1e3:>9.4f} {w['floor'] * 1e3:>9.4f} {w['sigdist'] / w['floor']:>6.2f} "
              f"{w['sigdist_cpu'] / w['floor_cpu']:>6.2f} {w['sigdist_cpu'] / w['call_floor_cpu']:>7.2f} "
              f"{w['sigdist_cpu'] / w['sum_floor_cpu']:>6.2f} "
              f"{w['r_only'] * 1e3:>9.4f} {w['floor_r'] * 1e3:>9.4f} {w['r_only'] / w['floor_r']:>6.2f} "
              f"{w['r_only_cpu'] / w['floor_r_cpu']:>6.2f} {w['notebook64'] / w['sigdist']:>7.1f}")
    print("floor: max(10 d^3/3 flops at the dgemm peak, d^2 normals at the generator rate), wall clock on all cores; "
          "/cpufl: the same in CPU time (CPU-seconds per chain-step over the per-thread floor); /callpk: CPU time over "
          "each call's flops at that call's own peak (dgemm, dsyrk, dsytrf at n = 1024); /sumfl: CPU time over the flops' "
          "time plus the normals' time (the same core does both); r only: soft rank every 100th step, floor 3 d^3")


if __name__ == "__main__":
    main()
