"""The empirical law of a sample (a Monte Carlo run's squared norms, cosines, ...), as a :class:`~sigdist.Law`."""

from __future__ import annotations

import math

import numpy as np

from ._checks import check_order, check_points, check_probability
from ._law import Law, power

__all__ = ["EmpiricalLaw"]


class EmpiricalLaw(Law):
    r"""The empirical law of a sample: ``F_n(x) = #\{X_i \le x\} / n``, with standard errors.

    Parameters
    ----------
    samples : array_like
        Finite draws (one-dimensional; ``n >= 1``).
    label : str, optional
        What the samples are of.

    Notes
    -----
    A discrete law: every sample is an atom of mass ``1/n``, so ``pdf`` is not defined. The
    standard errors are those of i.i.d. sampling: ``cdf_se(x) = sqrt(F_n (1 - F_n) / n)``,
    ``moment_se(k) = sqrt(Var(X^k) / n)`` estimated from the sample.
    """

    def __init__(self, samples, label="X"):
        x = check_points(samples, "samples").ravel()
        if x.size == 0:
            raise ValueError("samples must hold at least one value, got an empty array")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"samples must be finite, got {int(np.sum(~np.isfinite(x)))} non-finite values")
        self.samples = np.sort(x)
        self.size = x.size
        self.label = label
        self._support = (float(self.samples[0]), float(self.samples[-1]))

    def __repr__(self):
        return f"EmpiricalLaw({self.label}, size={self.size}, mean={self.mean():.6g})"

    def _cdf(self, x):
        return np.searchsorted(self.samples, x, side="right") / self.size

    def _sf(self, x):
        return (self.size - np.searchsorted(self.samples, x, side="right")) / self.size

    def pdf(self, x):
        raise ValueError("an empirical law is discrete: it has no density (use cdf, or a histogram of .samples)")

    logpdf = pdf

    def ppf(self, q):
        q = check_probability(q, "q")
        idx = np.clip(np.ceil(q * self.size).astype(np.int64) - 1, 0, self.size - 1)
        return self.samples[idx][()]

    def isf(self, q):
        q = check_probability(q, "q")
        # the smallest sample x with sf(x) <= q, sf(x_(k)) = (n - k) / n for the k-th smallest (k = 1..n)
        idx = np.clip(self.size - np.floor(q * self.size).astype(np.int64) - 1, 0, self.size - 1)
        return self.samples[idx][()]

    def _rvs(self, size, rng):
        return rng.choice(self.samples, size=size, replace=True)

    def _moment(self, order):
        return float(np.mean(power(self.samples, order)))

    def expect(self, func=None, lb=None, ub=None, conditional=False):
        func = (lambda x: x) if func is None else func
        if not callable(func):
            raise ValueError(f"func must be a callable f(x), got {func!r}")
        keep = np.ones(self.size, dtype=bool)
        if lb is not None:
            keep &= self.samples >= float(check_points(lb, "lb"))
        if ub is not None:
            keep &= self.samples <= float(check_points(ub, "ub"))
        chosen = self.samples[keep]
        try:  # one vectorised call, or one call a sample for a scalar function (as Law.expect takes)
            values = np.asarray(func(chosen), dtype=np.float64)
            if values.shape != chosen.shape:
                raise TypeError
        except (TypeError, ValueError):
            values = np.array([float(func(np.float64(v))) for v in chosen])
        total = float(np.sum(values)) / self.size
        if conditional:
            if not np.any(keep):
                raise ValueError("conditional expectation over a range that holds no sample")
            total *= self.size / np.count_nonzero(keep)
        return total

    def entropy(self):
        raise ValueError("an empirical law is discrete: it has no differential entropy")

    def cdf_se(self, x):
        """Standard error of :meth:`cdf` at ``x``: ``sqrt(F_n (1 - F_n) / n)``."""
        f = self.cdf(x)
        return np.sqrt(f * (1.0 - f) / self.size)

    def moment_se(self, order):
        """Standard error of :meth:`moment` (``sqrt(Var(X^k) / n)`` from the sample; 0 for ``n = 1``)."""
        order = check_order(order)
        v = power(self.samples, order)
        return 0.0 if self.size == 1 else float(np.std(v, ddof=1) / math.sqrt(self.size))

    def mean_se(self):
        """Standard error of the mean."""
        return self.moment_se(1)
