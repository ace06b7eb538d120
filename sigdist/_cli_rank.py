"""Checks of the ``sigdist rank`` and ``sigdist lengths`` commands: a run too short for its autocorrelation time,
a checkpoint written with other settings, the ``--widths`` syntax."""

from __future__ import annotations

import numpy as np

__all__ = ["trace_autocorrelation_time", "short_run_warnings", "checkpoint_differences", "parse_widths",
           "describe_widths"]

#: a run shorter than this many integrated autocorrelation times gets a warning
RUN_LENGTH_FACTOR = 50
#: a burn-in shorter than this many integrated autocorrelation times gets a warning
BURN_IN_FACTOR = 10


def trace_autocorrelation_time(steps, trace):
    """Integrated autocorrelation time, in chain steps, of a trace of shape ``(n_points, n_chains)``.

    The autocorrelation function is pooled over chains (each centred on its own mean) and summed up to
    Sokal's automatic window, the first lag ``W >= 5 tau(W)``; the trace's spacing converts it to steps.
    NaN with fewer than 4 points.
    """
    x = np.asarray(trace, dtype=float)
    x = x.reshape(x.shape[0], -1)
    n = x.shape[0]
    if n < 4:
        return float("nan")
    spacing = float(np.median(np.diff(np.asarray(steps, dtype=float))))
    x = x - x.mean(axis=0)
    f = np.fft.rfft(x, n=2 * n, axis=0)
    acf = np.fft.irfft(f * np.conj(f), n=2 * n, axis=0)[:n].sum(axis=1)
    if not acf[0] > 0:
        return float("nan")
    rho = acf / acf[0]
    tau = 1.0
    for lag in range(1, n):
        tau += 2.0 * rho[lag]
        if lag >= 5.0 * tau:
            break
    return max(tau, 1.0) * spacing


def short_run_warnings(result):
    """One-line warnings for a :class:`~sigdist.rank_chain.RankChainResult` too short for its autocorrelation
    time: ``(warnings, tau)`` with ``tau`` the larger of the batch-means and the trace estimates (steps)."""
    if np.ptp(np.asarray(result.trace_r)) == 0 and result.trace_r.size:  # a constant r: its mean is exact
        return [], 0.0
    estimates = [t for t in (result.tau_int_r, trace_autocorrelation_time(result.trace_steps, result.trace_r))
                 if np.isfinite(t)]
    tau = max(estimates) if estimates else float("nan")
    out = []
    recorded = result.n_steps - result.burn_in
    if not np.isfinite(tau):
        out.append(f"steps {result.n_steps}: too few recorded steps ({recorded}) to estimate the integrated "
                   "autocorrelation time; the mean is unreliable, run more --steps")
        return out, tau
    if recorded < RUN_LENGTH_FACTOR * tau:
        out.append(f"steps {result.n_steps} (burn-in {result.burn_in}, {recorded} recorded) < {RUN_LENGTH_FACTOR} x "
                   f"integrated autocorrelation time {tau:.3g} = {RUN_LENGTH_FACTOR * tau:.0f}; the mean "
                   f"{result.r_mean:.4g} +- {result.r_mean_se:.2g} is unreliable (a run this short also underestimates "
                   "the autocorrelation time): run more --steps")
    if result.burn_in < BURN_IN_FACTOR * tau:
        out.append(f"burn-in {result.burn_in} < {BURN_IN_FACTOR} x integrated autocorrelation time {tau:.3g} = "
                   f"{BURN_IN_FACTOR * tau:.0f}; the start of the chain may bias the mean: raise --burn-in")
    return out, tau


def checkpoint_differences(chain, wanted):
    """``["--width 32 (checkpoint: 64)", ...]``: the settings in ``wanted`` (option -> value) that differ
    from those the checkpointed ``chain`` was run with."""
    have = {"--width": chain.width, "--gamma": chain.gamma, "--batch": chain.batch, "--chains": chain.n_networks,
            "--weights": chain.weight_law.name, "--tau": chain.tau, "--burn-in": chain.burn_in}
    out = []
    for option, value in wanted.items():
        if value is None or have.get(option) is None:
            continue
        old = have[option]
        same = np.isclose(float(value), float(old), rtol=1e-12, atol=0) if isinstance(value, float) else value == old
        if not same:
            out.append(f"{option} {value:g} (checkpoint: {old:g})" if isinstance(value, (int, float)) else
                       f"{option} {value} (checkpoint: {old})")
    return out


def parse_widths(spec):
    """``"20x100"`` (width x depth) or ``"30,10,30"`` -> hidden widths n_1..n_d (ValueError naming ``widths``)."""
    from ._checks import check_width

    spec = str(spec).strip()
    try:
        if "x" in spec:
            width, depth = spec.split("x")
            width, depth = int(width), int(depth)
            if depth < 1:
                raise ValueError(f"widths must have a depth >= 1 (WIDTHxDEPTH), got {depth} in {spec!r}")
            return [check_width(width, "widths")] * depth
        return [check_width(int(w), f"widths[{i}]") for i, w in enumerate(spec.split(","))]
    except ValueError as err:
        if "must" in str(err):
            raise
        raise ValueError(f"widths must be WIDTHxDEPTH or a comma list of integers >= 1, got {spec!r}") from None


def describe_widths(hidden):
    """The hidden widths as a reader gave them: ``"20 x 100 layers"`` or ``"30,10,30"``."""
    if len(set(hidden)) == 1 and len(hidden) > 1:
        return f"{hidden[0]} x {len(hidden)} layers"
    return ",".join(str(w) for w in hidden)
