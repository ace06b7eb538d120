"""Every benchmark in one go, one line per hot path: name, time, floor (or reference), ratio -- a regression guard.

    python benchmarks/run_all.py [--quick] [--only rank montecarlo ...] [--device cpu|cuda] [--verbose]

Each ``bench_*.py`` runs in its own process (``--quick`` passed on: the whole set in a few minutes on 2 cores)
and its printed figures are read back. The floor is the benchmark's own hardware floor measured in the same
run (flops at the measured BLAS peak, bytes at the measured bandwidth, normals at the generator's rate); where a
path has none, the reference named in the last column (a target, or the naive way) stands in its place. A
slowdown shows as a larger ratio. A benchmark that fails, or whose output no longer parses, prints one line
saying so and makes the exit status 1.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def _num(pattern, text, group=1, flags=re.M):
    m = re.search(pattern, text, flags)
    return None if m is None else float(m.group(group))


def parse_rank(out):
    rows = []
    num = r"\s+([\d.]+)"
    for m in re.finditer(r"^\s*(\d+)\s+(\d+)" + num * 13 + r"\s*$", out, re.M):
        d, chains = m.group(1), m.group(2)
        t, floor, t_r, floor_r = (float(m.group(i)) * 1e-3 for i in (5, 6, 11, 12))
        rows.append((f"rank chain d={d} ({chains} chains), r + soft rank", t, floor,
                     f"flops at dgemm peak | rng; CPU-time ratio {m.group(8)}, to flops + rng {m.group(10)}"))
        rows.append((f"rank chain d={d}, r only", t_r, floor_r,
                     f"flops at dgemm peak | rng; CPU-time ratio {m.group(14)}"))
    for m in re.finditer(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)us\s+([\d.]+)\s*$", out, re.M):  # CUDA
        rows.append((f"rank chain d={m.group(1)} ({m.group(2)} chains, torch)", 1 / float(m.group(3)),
                     float(m.group(6)) * 1e-6, "4 d^3 at the batched-GEMM rate"))
    return rows


def parse_montecarlo(out):
    rows = []
    for block in re.split(r"^(?=N=\d+)", out, flags=re.M)[1:]:
        n = re.match(r"N=(\d+)", block).group(1)
        for label, key in (("full networks", "full"), ("reduced sampler", "reduced")):
            rate = _num(key + r"[^:]*:\s+([\d.]+) networks/s", block)
            floor = _num(key + r"[^:]*:.*generator floor\s+([\d.]+)/s", block)
            if rate and floor:
                rows.append((f"simulate {label}, He N={n} L=9", 1 / rate, 1 / floor, "generator's normals"))
    return rows


def parse_operator(out):
    rows = []
    t = _num(r"sigdist exact law.*?: ([\d.]+) ms", out)
    mc = _num(r"ratio MC / sigdist = ([\d.e+-]+)", out)
    if t is not None:
        rows.append(("exact law relu He N=200 L=9", t * 1e-3, None, f"Monte Carlo / sigdist = {mc:.3g}" if mc else ""))
    m = re.search(r"operator build .*?: ([\d.]+) ms; floor ([\d.]+) ms", out)
    if m:
        rows.append(("operator build 4096^2", float(m.group(1)) * 1e-3, float(m.group(2)) * 1e-3, "bytes at bandwidth"))
    for label, pattern, target in (("tanh law, one layer", r"^tanh\s+fourier\s+\d+\s+([\d.]+)", 0.05),
                                   ("tanh law, depth 5", r"^tanh depth 5\s+\S+\s+\d+\s+([\d.]+)", 1.0)):
        t = _num(pattern, out)
        if t is not None:
            rows.append((label, t * 1e-3, target, "the issue's target (not a floor)"))
    return rows


def parse_spectrum(out):
    rows = []
    t = _num(r"stationary law \(.*?\): ([\d.]+) s", out)
    if t is not None:
        rows.append(("stationary law, 1024 states", t, None, ""))
    m = re.search(r"ARPACK k=4: ([\d.]+) s.*?floor .*? ([\d.]+) s;", out, re.S)
    if m:
        rows.append(("ARPACK k=4", float(m.group(1)), float(m.group(2)), "matvecs at the measured rate"))
    return rows


def parse_lengths(out):
    m = re.search(r"exact moments.*?: ([\d.]+) ms.*?floor ([\d.]+) us", out)
    return [("length moments, depth 1000", float(m.group(1)) * 1e-3, float(m.group(2)) * 1e-6, "one cumsum")] if m \
        else []


def parse_correlation(out):
    rows = []
    m = re.search(r"pair chain: ([\d.]+) ns per network-layer; generator floor ([\d.]+) ns", out)
    if m:
        rows.append(("pair chain, per network-layer", float(m.group(1)) * 1e-9, float(m.group(2)) * 1e-9,
                     "generator's normals"))
    m = re.search(r"full networks \(torch, CPU\): ([\d.]+) us per network-layer", out)
    if m and rows:
        rows.append(("two inputs, full networks", float(m.group(1)) * 1e-6, rows[0][1], "the pair chain (reference)"))
    return rows


def parse_fft(out):
    rows = []
    for m in re.finditer(r"^\s*(4096|1048576)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+\s*$", out, re.M):
        scipy_t, fftw_t = float(m.group(2)) * 1e-6, float(m.group(3)) * 1e-6
        rows.append((f"rfft + irfft n={m.group(1)}", min(scipy_t, fftw_t), max(scipy_t, fftw_t),
                     "the slower library (reference)"))
    return rows


BENCHMARKS = {  # name: (script, takes --quick, takes --device, parser)
    "rank": ("bench_rank.py", True, True, parse_rank),
    "montecarlo": ("bench_montecarlo.py", True, True, parse_montecarlo),
    "operator": ("bench_operator.py", True, False, parse_operator),
    "spectrum": ("bench_spectrum.py", True, False, parse_spectrum),
    "lengths": ("bench_lengths.py", True, False, parse_lengths),
    "correlation": ("bench_correlation.py", True, False, parse_correlation),
    "fft": ("bench_fft.py", False, False, parse_fft),
}


def _fmt(seconds):
    if seconds is None:
        return "-"
    for unit in ("s", "ms", "us", "ns"):
        if seconds >= UNITS[unit] or unit == "ns":
            return f"{seconds / UNITS[unit]:.3g} {unit}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="run these benchmarks only")
    ap.add_argument("--device", default="cpu", help="passed to the benchmarks that take one (rank, montecarlo)")
    ap.add_argument("--verbose", action="store_true", help="print every benchmark's own output too")
    args = ap.parse_args(argv)
    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else "?"
    print(f"{time.strftime('%Y-%m-%d %H:%M')}  {os.cpu_count()} CPUs, load average {' '.join(load)}")
    print(f"{'hot path':<48} {'time':>10} {'floor':>10} {'ratio':>7}  floor is")
    failed = False
    for name in args.only or BENCHMARKS:
        script, quick, device, parse = BENCHMARKS[name]
        cmd = [sys.executable, str(HERE / script)] + (["--quick"] if quick and args.quick else []) \
            + (["--device", args.device] if device else [])
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE)
        if args.verbose:
            print(proc.stdout)
        rows = parse(proc.stdout) if proc.returncode == 0 else []
        if not rows:
            failed = True
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"{name:<48} FAILED (exit {proc.returncode}, or its output no longer parses): {tail}")
        for label, t, floor, note in rows:
            ratio = f"{t / floor:.2f}" if floor else "-"
            print(f"{label:<48} {_fmt(t):>10} {_fmt(floor):>10} {ratio:>7}  {note}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
