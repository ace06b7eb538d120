"""The lattice route's error estimate: Richardson extrapolation over three lattices."""

from __future__ import annotations

import math

import numpy as np

from .laws import SquaredNormLaw

__all__ = ["richardson_law"]


def richardson_law(fine: SquaredNormLaw, half: SquaredNormLaw, quarter: SquaredNormLaw, tol):
    """Attach a Richardson estimate of the CDF error to the finest of three lattice laws.

    With ``d1 = max |F_n - F_{n/2}|`` and ``d2 = max |F_{n/2} - F_{n/4}|`` the observed
    order is ``p = log2(d2 / d1)`` (2 in the asymptotic regime); the estimate is
    ``d1 / (2^p - 1)`` with ``p`` clipped to ``[1, 2]``, so a lattice still too coarse
    for its law (``p < 2``) is not credited with second-order convergence.
    """
    z = fine.continuous.grid.points
    d1 = float(np.max(np.abs(fine.cdf(z) - half.cdf(z))))
    d2 = float(np.max(np.abs(half.cdf(z) - quarter.cdf(z))))
    order = 2.0 if d1 <= 0 or d2 <= 0 else min(max(math.log2(d2 / d1), 0.15), 2.0)
    estimate = d1 / (2.0**order - 1.0)
    return SquaredNormLaw(fine.atom, fine.continuous, discretisation_error=fine.discretisation_error + estimate,
                          moments=fine.moment_chain, tol=tol, warn=False, label=fine.label)
