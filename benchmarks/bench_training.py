"""Training a population of seeds at once against the loop of R separate trainings, beside a matmul floor.

    python benchmarks/bench_training.py [--device cpu|cuda] [--seeds 100] [--steps 300] [--dtype float32]
                                        [--loop-seeds K] [--quick]

The digits data set (1348 train, 449 test images, 64 pixels), a He relu network of depth 10 and width 128
plus the readout to 10 classes, SGD with lr 0.01, batch 64, evaluation at step 0 and at the end (whole
splits). Three numbers:

* population: ``train_population(network, digits, seeds=R)`` (stacked weights, one batched pass per step);
* loop: the same R trainings one after another, each ``Network.to_torch(seed)`` with its own
  ``torch.optim.SGD`` on the same mini-batches, evaluated the same way (the way a user writes it). With
  ``--loop-seeds K < R`` only K of them are timed and the time is scaled by R / K (the trainings are
  independent, so their cost is linear in R);
* floor: the multiply-adds of the forward and backward matrix products of all R networks over all steps and
  both evaluations, at the rate of one large matrix product of the same dtype measured on the device
  (``peak``): the time no implementation of these matmuls can beat on this device.

Reported: both times, the speed-up loop / population, and population /
floor.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np
import torch

from sigdist import Network
from sigdist._device import resolve_device
from sigdist.training import load_digits, minibatch_indices, readout_layer, train_population

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from _timing import best_time  # noqa: E402


def timed(f, device, repeat=1):
    """Best time of ``repeat`` calls: wall clock with CUDA synchronised on a GPU; CPU time of this process on
    the CPU (on a shared machine closer to what an idle one shows; use ``--threads 1`` there, since waiting
    OpenMP threads burn CPU time too)."""
    if device.type == "cuda":
        def call():
            f()
            torch.cuda.synchronize()
        torch.cuda.synchronize()
        return best_time(call, repeat)
    return best_time(f, repeat, clock=time.process_time)


def peak_flops(device, dtype, repeat=5):
    """Floating-point operations per second of one large square matrix product (2 n^3 flops)."""
    n = 8192 if device.type == "cuda" else 2048
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    a @ b  # warm up
    return 2 * n**3 / timed(lambda: a @ b, device, repeat)


def loop_training(network, data, seeds, *, steps, batch_size, lr, device, dtype):
    """R separate trainings of nn.Modules, the plain torch way."""
    head = readout_layer("he", network.layers[-1].width, data.n_classes)
    full = Network(list(network) + [head], input_width=network.input_width)
    batches = torch.as_tensor(minibatch_indices(data.n_train, batch_size, steps), device=device)
    x = torch.as_tensor(data.x_train.copy(), dtype=dtype, device=device)
    y = torch.as_tensor(data.y_train.copy(), device=device)
    xt = torch.as_tensor(data.x_test.copy(), dtype=dtype, device=device)
    yt = torch.as_tensor(data.y_test.copy(), device=device)
    ce = torch.nn.functional.cross_entropy
    out = []
    for seed in seeds:
        model = full.to_torch(seed, dtype=dtype, device=device)
        opt = torch.optim.SGD(model.parameters(), lr=lr)

        def evaluate():
            with torch.no_grad():
                return [float(ce(model(a), b)) for a, b in ((x, y), (xt, yt))]

        first = evaluate()
        for step in range(steps):
            idx = batches[step]
            opt.zero_grad()
            ce(model(x[idx]), y[idx]).backward()
            opt.step()
        out.append((first, evaluate()))
    return out


def matmul_flops(widths, n_seeds, steps, batch_size, n_eval):
    """Flops of the matrix products: forward 2 B n_in n_out per layer, backward twice that (weights and
    inputs; the first layer has no input gradient), for ``steps`` steps; plus forward passes over n_eval."""
    pairs = list(zip(widths[:-1], widths[1:]))
    forward = sum(2 * a * b for a, b in pairs)
    backward = 2 * forward - 2 * pairs[0][0] * pairs[0][1]
    return n_seeds * (steps * batch_size * (forward + backward) + n_eval * forward)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    ap.add_argument("--loop-seeds", type=int, default=None,
                    help="seeds of the loop actually timed (default: all on CUDA, 10 on the CPU)")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch CPU threads (on a shared machine 1 avoids OpenMP threads waiting on each other)")
    ap.add_argument("--quick", action="store_true", help="30 steps, 20 seeds")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.quick:
        args.steps, args.seeds = 30, 20
    device = resolve_device(args.device)
    dtype = getattr(torch, args.dtype)
    loop_seeds = args.loop_seeds or (args.seeds if device.type == "cuda" else min(10, args.seeds))
    data = load_digits()
    widths = [data.input_width] + [args.width] * args.depth
    network = Network.he(widths)
    lr, bs, steps = 0.01, args.batch_size, args.steps
    settings = dict(steps=steps, batch_size=bs, lr=lr, device=device)

    # warm up both paths (CUDA context, kernels, allocator)
    train_population(network, data, 2, eval_every=steps, dtype=args.dtype, progress=False, **{**settings, "steps": 3})
    loop_training(network, data, [0], dtype=dtype, **{**settings, "steps": 3})

    holder = {}
    t_pop = timed(lambda: holder.setdefault("pop", train_population(
        network, data, args.seeds, eval_every=steps, dtype=args.dtype, progress=False, **settings)), device)
    t_loop_part = timed(lambda: holder.setdefault("loop", loop_training(
        network, data, list(range(loop_seeds)), dtype=dtype, **settings)), device)
    t_loop = t_loop_part * args.seeds / loop_seeds
    peak = peak_flops(device, dtype)
    flops = matmul_flops(widths + [data.n_classes], args.seeds, steps, bs, data.n_train + data.n_test)
    floor = flops / peak

    # the same trainings: the same initial networks (to rounding); float32 rounding can grow over many steps
    pop = holder["pop"]
    loop_first = np.array([r[0][0] for r in holder["loop"]])
    loop_final = np.array([r[1][0] for r in holder["loop"]])
    agree_first = np.max(np.abs(pop.loss[:loop_seeds, 0] - loop_first) / loop_first)
    agree_final = np.median(np.abs(pop.loss[:loop_seeds, -1] - loop_final) / loop_final)

    clock = "wall clock" if device.type == "cuda" else "CPU time"
    print(f"device {device} ({clock}), torch {torch.__version__}, threads {torch.get_num_threads()}, {args.dtype}; "
          f"digits, He relu depth {args.depth} width {args.width} + readout, SGD lr {lr}, batch {bs}, "
          f"{steps} steps, R = {args.seeds} seeds")
    print(f"population (train_population): {t_pop:10.2f} s")
    scaled = f" ({loop_seeds} seeds timed: {t_loop_part:.2f} s, scaled by {args.seeds}/{loop_seeds})" \
        if loop_seeds != args.seeds else ""
    print(f"loop of R nn.Module trainings: {t_loop:10.2f} s{scaled}")
    print(f"speed-up loop / population:    {t_loop / t_pop:10.1f} x")
    print(f"floor: {flops / 1e9:.1f} GFLOP of matmuls at the measured peak {peak / 1e9:.1f} GFLOP/s = {floor:.2f} s;"
          f" population / floor = {t_pop / floor:.1f}")
    print(f"train loss, population vs loop (first {loop_seeds} seeds): initial max relative difference "
          f"{agree_first:.1e}, final median {agree_final:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
