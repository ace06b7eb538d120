"""The one timer the CPU benchmarks share (bench_montecarlo has its own, CUDA-synchronising one)."""

from __future__ import annotations

import time


def best_time(f, repeat=3, clock=time.perf_counter):
    """Smallest time in seconds of ``repeat`` calls of ``f()``: the least disturbed run. ``clock`` is the wall
    clock; ``time.process_time`` gives CPU time instead, closer on a shared machine to what an idle one would
    show (sigdist's laws run on one thread)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = clock()
        f()
        best = min(best, clock() - t0)
    return best
