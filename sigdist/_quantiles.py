"""Root finding for quantiles: a CDF table's bracket refined by bisection, and a tail solved in logs
(with its density from the tail's logarithmic derivative).

Used by :class:`sigdist.laws.SquaredNormLaw` (its ``ppf`` / ``isf``); pure numerics on callables.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize


def bisect_table(points, cum, f, target, widen=False):
    """``u`` with ``f(u) = target`` (vectorised): the table ``cum`` (``f`` at ``points``, nondecreasing)
    brackets each target, 60 halvings reach machine precision. ``widen``: ``f`` differs from the table
    (an exact evaluator beside a grid's interpolant), so each bracket is widened until it holds."""
    idx = np.clip(np.searchsorted(cum, target), 1, points.size - 1)
    lo, hi = points[idx - 1].copy(), points[idx].copy()
    if widen:
        for _ in range(60):
            low, high = f(lo) >= target, f(hi) < target
            if not (np.any(low) or np.any(high)):
                break
            width = hi - lo
            lo, hi = np.where(low, lo - width, lo), np.where(high, hi + width, hi)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        below = f(mid) < target
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
        if np.all(hi - lo <= 4e-16 * np.maximum(1.0, np.abs(hi))):
            break
    return 0.5 * (lo + hi)


def solve_log_tail(f, target, start, upper, label):
    """``x`` with ``f(x) = target`` for a tail ``f`` spanning many decades (``P(z > x)`` if ``upper``, else
    ``P(0 < z <= x)``): ``log f(e^u) = log target`` bracketed by walking from ``u = start`` away from the
    bulk, then Brent's method; None where ``f`` is NaN (it has no value there, and the grid answers)."""
    def g(u):
        value = float(f(np.array([math.exp(u)]))[0])  # NaN: u lies in the bulk, where f does not answer
        return value if math.isnan(value) else math.log(max(value, 1e-320)) - math.log(target)

    a = start
    ga = g(a)
    if math.isnan(ga):
        return None  # f is silent at the grid's answer (which the cdf then reads too): the grid's stands
    # cdf rises and sf falls with u: walk away from the bulk until the sign flips
    direction = -1.0 if (ga > 0) != upper else 1.0
    step = 0.5
    for _ in range(64):
        b = a + direction * step
        gb = g(b)
        if math.isnan(gb):
            return None
        if (gb > 0) != (ga > 0):
            break
        a, ga = b, gb
        step *= 2.0
    else:
        raise FloatingPointError(f"law of {label}: no quantile found for tail {target:.3g}")
    return math.exp(optimize.brentq(g, min(a, b), max(a, b), xtol=1e-14, rtol=1e-15, maxiter=200))


def log_tail_density(f, x, h=2e-3):
    """``log |dF/dx|`` of a tail ``F`` known with relative accuracy: ``F |d log F / d log x| / x``, the
    logarithmic derivative by the five-point stencil in ``log x`` (error ~h^4 from the step, ~1e-13 / h
    from F's digits: about 1e-10 relative)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        mid = np.log(f(x))
        logs = [np.log(f(x * math.exp(k * h))) for k in (-2, -1, 1, 2)]
        slope = (logs[0] - 8.0 * logs[1] + 8.0 * logs[2] - logs[3]) / (12.0 * h)
        out = mid + np.log(np.abs(slope)) - np.log(x)
    return np.where(np.isfinite(out) | np.isnan(mid), out, -np.inf)  # NaN: f has no value there
