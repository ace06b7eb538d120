"""A batch of input-output Jacobians (width 256, depth 50): sigdist beside the matmul floor and the naive way.

    python benchmarks/bench_jacobian.py [--device cpu|cuda] [--n-networks n] [--dtype float64|float32]
                                        [--threads k] [--quick]

He relu network, N = 256 at every layer, L = 50, float64 unless told. sigdist's path is
``jacobian.jacobian_spectrum``: draw the weights of ``n`` networks, build ``J = D_L W_L ... D_1 W_1`` by one
batched product per layer (``bmm`` of ``n`` ``N x N`` matrices: ``2 N^3`` flops per network and layer, plus
the forward pass's ``2 N^2``), then ``svdvals``. The floor is those flops over the peak rate of that very
``bmm`` (same shape, dtype and device), measured in the same run; the time of the generator's ``n L N^2`` normals is printed beside it. The naive way is what a user writes
first: ``torch.autograd.functional.jacobian`` of each network's ``nn.Sequential`` (``Network.to_torch``),
one network after the other (reverse mode: ``N`` backward passes per network).
Reported: times per batch and per network, and the ratios time / floor and naive / sigdist.
"""

from __future__ import annotations

import argparse

import torch

import sigdist
from sigdist._device import resolve_device
from sigdist.jacobian import jacobian_spectrum

from _timing import best_time


def _synced(f, device):
    def run():
        out = f()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return out
    return run


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="auto")
    ap.add_argument("--n-networks", type=int, default=None, help="batch size (default 16 on CPU, 256 on CUDA)")
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--depth", type=int, default=50)
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's own)")
    ap.add_argument("--quick", action="store_true", help="width 64, depth 10 (a smoke run)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.quick:
        args.width, args.depth = 64, 10
    device = resolve_device(args.device)
    n = args.n_networks or (256 if device.type == "cuda" else 16)
    N, L = args.width, args.depth
    dtype = getattr(torch, args.dtype)
    net = sigdist.Network.he([N] * (L + 1))

    # peak of the one matmul the path needs: bmm of (n, N, N) by (n, N, N)
    gen = torch.Generator(device=device).manual_seed(0)
    a = torch.randn((n, N, N), generator=gen, dtype=dtype, device=device)
    b = torch.randn((n, N, N), generator=gen, dtype=dtype, device=device)
    out = torch.empty_like(a)
    reps = 5

    def matmuls():
        for _ in range(reps):
            torch.bmm(a, b, out=out)
    run = _synced(matmuls, device)
    run()
    t_mm = best_time(run, repeat=5) / reps
    peak = 2.0 * n * N ** 3 / t_mm
    flops = n * L * (2.0 * N ** 3 + 2.0 * N ** 2)
    floor = flops / peak

    # the Jacobian products alone (weights drawn beforehand, derivative of relu as a mask)
    ws = [torch.randn((n, N, N), generator=gen, dtype=dtype, device=device) * (2.0 / N) ** 0.5 for _ in range(L)]
    x0 = torch.randn((n, N), generator=gen, dtype=dtype, device=device)

    def products():
        x, jac = x0, torch.eye(N, dtype=dtype, device=device).expand(n, N, N)
        for w in ws:
            h = torch.bmm(w, x.unsqueeze(2)).squeeze(2)
            x = torch.relu(h)
            jac = (h > 0).to(dtype).unsqueeze(2) * torch.bmm(w, jac)
        return jac
    run = _synced(products, device)
    run()
    t_prod = best_time(run, repeat=3)

    jac = products()
    ws.clear()
    run = _synced(lambda: torch.randn((n * L, N, N), generator=gen, dtype=torch.float64, device=device), device)
    t_draw = best_time(run, repeat=3)
    run = _synced(lambda: jacobian_spectrum(net, n, seed=0, device=device, dtype=dtype), device)
    run()
    t_sigdist = best_time(run, repeat=3)
    run = _synced(lambda: torch.linalg.svdvals(jac), device)
    t_svd = best_time(run, repeat=3)

    # naive: torch.autograd.functional.jacobian of each real network, one after the other
    n_naive = 2 if device.type == "cpu" else 4
    modules = [net.to_torch(seed=s, dtype=dtype, device=str(device)) for s in range(n_naive)]
    x = torch.randn(N, generator=gen, dtype=dtype, device=device)

    def naive():
        for m in modules:
            torch.autograd.functional.jacobian(m, x)
    run = _synced(naive, device)
    run()
    t_naive = best_time(run, repeat=2) / n_naive * n

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"device {device} ({name}), torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"He relu N={N} L={L}, {n} networks, {args.dtype}")
    print(f"measured peak of bmm ({n} x {N}x{N} @ {N}x{N}): {peak / 1e9:.1f} GFLOP/s ({t_mm * 1e3:.2f} ms per bmm)")
    print(f"floor (n L (2N^3 + 2N^2) = {flops / 1e9:.2f} GFLOP at that peak): {floor * 1e3:.1f} ms")
    print(f"Jacobian products alone:          {t_prod * 1e3:9.1f} ms   {t_prod / floor:6.2f} x floor")
    print(f"drawing the weights (n L N^2 normals, float64): {t_draw * 1e3:9.1f} ms")
    print(f"svdvals of the batch:             {t_svd * 1e3:9.1f} ms")
    print(f"sigdist jacobian_spectrum (draws, products, svdvals): {t_sigdist * 1e3:9.1f} ms per batch, "
          f"{t_sigdist / n * 1e3:.2f} ms per network;  {t_sigdist / floor:.2f} x floor, "
          f"{t_sigdist / (floor + t_draw):.2f} x (floor + draws)")
    print(f"naive autograd.functional.jacobian per network: {t_naive / n * 1e3:9.1f} ms per network "
          f"({n_naive} timed);  naive / sigdist = {t_naive / t_sigdist:.1f}")


if __name__ == "__main__":
    main()
