"""The one timer the CPU benchmarks share (bench_montecarlo has its own, CUDA-synchronising one)."""

from __future__ import annotations

import time


def best_time(f, repeat=3):
    """Smallest wall time in seconds of ``repeat`` calls of ``f()``: the least disturbed run."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best
