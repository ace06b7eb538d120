"""What the three training experiments (validation/train_*.py, issue 19) share: threads, one population run,
the printed table, the correlation line with its verdict, and censoring of "never reached"."""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from sigdist.training.predictions import correlation


DEVICE = "cpu"


def parse_args(argv, doc, out):
    """The options every training experiment takes (``--quick``, ``--seeds``, ``--steps``, ``--device``,
    ``--out``), parsed; then :func:`setup` for the device."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=None, help="seeds per configuration (default: the mode's)")
    ap.add_argument("--steps", type=int, default=None, help="SGD steps (default: the mode's)")
    ap.add_argument("--device", default="cpu", help="'cpu' (default), 'auto', 'cuda' (full-size runs on a GPU)")
    ap.add_argument("--out", default=out)
    args = ap.parse_args(argv)
    setup(args.device)
    return args


def setup(device="cpu"):
    """The device of every run; on the CPU one torch thread (many small matrices on a shared machine run
    fastest without thread contention)."""
    import torch

    global DEVICE
    DEVICE = device
    if device == "cpu":
        torch.set_num_threads(1)


def train(network, data, seeds, **kwargs):
    """:func:`sigdist.training.train_population` without a progress bar, with its wall time."""
    from sigdist.training import train_population

    t = time.perf_counter()
    result = train_population(network, data, seeds, progress=False, device=DEVICE, **kwargs)
    return result, time.perf_counter() - t


def censored_steps(result, threshold, budget):
    """Steps until the training loss is below ``threshold`` per seed, ``budget`` for seeds that never got
    there (right-censored: the mean is then a lower bound), and how many did not."""
    steps = result.steps_to_loss(threshold)
    never = int(np.sum(~np.isfinite(steps)))
    return np.where(np.isfinite(steps), steps, float(budget)), never


def mean_ci(values, level=0.95):
    """Mean and Student-t half-width across seeds."""
    from scipy import stats

    values = np.asarray(values, dtype=np.float64)
    n = values.size
    if n < 2:
        return float(values.mean()), math.inf
    half = stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / math.sqrt(n)
    return float(values.mean()), float(half)


def print_table(columns, rows, formats):
    widths = [max(len(c), *(len(format(r[i], f)) for r in rows)) for i, (c, f) in enumerate(zip(columns, formats))]
    print(" ".join(f"{c:>{w}}" for c, w in zip(columns, widths)))
    for r in rows:
        print(" ".join(f"{format(v, f):>{w}}" for v, f, w in zip(r, formats, widths)))


def report(name, predicted, measured, expected_sign, seed=0):
    """Print the correlation of ``predicted`` and ``measured`` with its intervals and a verdict on the paper's
    claimed sign from Spearman's bootstrap interval: "supported" (it excludes 0 on the claimed side),
    "contradicted" (on the other side) or "not established" (it contains 0); returns ``(Correlation, verdict)``."""
    try:
        c = correlation(predicted, measured, seed=seed)
    except ValueError as err:  # a constant column (e.g. every atom 0): no correlation to report
        print(f"{name}: no correlation ({err})")
        return None, "undefined"
    sign = "+" if expected_sign > 0 else "-"
    lo, hi = c.spearman_low, c.spearman_high
    if (lo > 0 and expected_sign > 0) or (hi < 0 and expected_sign < 0):
        verdict = "supported"
    elif (lo > 0) or (hi < 0):
        verdict = "contradicted"
    else:
        verdict = "not established (the interval contains 0)"
    print(f"{name}: n = {c.n_pairs}, Pearson r = {c.pearson:+.3f} [{c.pearson_low:+.3f}, {c.pearson_high:+.3f}] (Fisher z), "
          f"Spearman rho = {c.spearman:+.3f} [{c.spearman_low:+.3f}, {c.spearman_high:+.3f}] (bootstrap); "
          f"claimed sign {sign}: {verdict}")
    return c, verdict


def finite(*arrays):
    return all(np.all(np.isfinite(np.asarray(a, dtype=np.float64))) for a in arrays)
