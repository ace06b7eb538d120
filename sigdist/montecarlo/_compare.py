"""Statistics that compare a law with samples: the tests and validation use these."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from .._checks import check_integer
from .._result import Result

__all__ = ["Comparison", "compare", "ks_distance"]


def ks_distance(samples, cdf, atom=0.0):
    """Kolmogorov-Smirnov distance ``sup |F_n - F|`` for a law with an atom at 0.

    The empirical CDF jumps at every sample; ``F`` is compared just before and at
    each jump. Samples equal to 0 are checked against the atom.
    """
    x = np.sort(np.asarray(samples, dtype=np.float64))
    n = x.size
    pos = x[x > 0]
    n0 = n - pos.size
    d = abs(n0 / n - atom)
    if pos.size:
        F = np.asarray(cdf(pos), dtype=np.float64)
        i = np.arange(n0 + 1, n + 1)
        d = max(d, float(np.max(np.abs(i / n - F))), float(np.max(np.abs((i - 1) / n - F))))
    return float(d)


@dataclass(frozen=True, repr=False, eq=False)
class Comparison(Result):
    """Outcome of :func:`compare`.

    ``ks_pvalue`` is exact for a continuous law; with an atom the KS test is
    conservative (the p-value is too large). ``chi2_*`` is the binned test on
    equiprobable bins of the law (the atom its own bin). ``moment_z[k]`` (a dict
    keyed by the order ``k``) is ``(mean(z^k) - E[z^k]) / se``, with the sample
    standard error; ``to_xarray()`` shows it along the dim ``order``.
    """

    size: int
    ks_statistic: float
    ks_pvalue: float
    chi2_statistic: float
    chi2_dof: int
    chi2_pvalue: float
    moment_z: dict

    def passes(self, level=1e-3, z_max=4.0) -> bool:
        """KS and chi2 p-values above ``level`` and every moment :math:`|z|` below ``z_max``."""
        return (self.ks_pvalue > level and self.chi2_pvalue > level
                and all(abs(z) < z_max for z in self.moment_z.values()))

    def to_xarray(self):
        """The base class's Dataset with ``moment_z`` along the dim ``order``."""
        ds = super().to_xarray()
        orders = np.array(sorted(self.moment_z), dtype=np.int64)
        return ds.assign(moment_z=("order", np.array([self.moment_z[k] for k in orders], dtype=np.float64))
                         ).assign_coords(order=orders)


def compare(law, samples, *, bins=None, moments=(1, 2)):
    """Compare a sigdist law (or any object with ``cdf``, ``ppf``, ``moment``) with samples.

    Parameters
    ----------
    law : SquaredNormLaw or scipy frozen distribution
        Its ``atom`` attribute (``P(z = 0)``) is used when present.
    samples : array_like
    bins : int, optional
        Equiprobable bins for the chi2 test (default: about ``n / 50``, 5 to 100).
    moments : sequence of int
        Raw moments compared by z-scores.

    Returns
    -------
    Comparison
    """
    missing = [name for name in ("cdf", "ppf", "moment") if not callable(getattr(law, name, None))]
    if missing:
        raise ValueError(f"law must be a sigdist law or a scipy frozen distribution (with cdf, ppf and moment), "
                         f"got {type(law).__name__} without {', '.join(missing)}")
    try:
        if samples is None or isinstance(samples, (str, bytes)):
            raise TypeError
        z = np.asarray(samples, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"samples must be an array of numbers, got {type(samples).__name__}") from None
    n = z.size
    if n < 2 or not np.all(np.isfinite(z)):
        raise ValueError(f"samples must hold at least 2 finite values, got {n} values"
                         + ("" if np.all(np.isfinite(z)) else " with nan or inf"))
    if isinstance(moments, (str, bytes)) or not hasattr(moments, "__iter__"):
        raise ValueError(f"moments must be a sequence of integers >= 1, got {moments!r}")
    moments = [check_integer(order, "moments", 1) for order in moments]
    atom = float(getattr(law, "atom", 0.0))
    d = ks_distance(z, law.cdf, atom)
    ks_p = float(stats.kstwo(n).sf(d))
    k = int(np.clip(n // 50, 5, 100)) if bins is None else check_integer(bins, "bins", 2)
    # equiprobable bins of the continuous part, plus the atom as its own bin when it carries mass
    cont = 1.0 - atom
    qs = atom + cont * np.arange(1, k) / k
    edges = np.concatenate([[0.0], np.asarray(law.ppf(qs), dtype=np.float64), [np.inf]])
    counts = np.histogram(z[z > 0], bins=edges)[0].astype(float)
    expected = np.full(k, n * cont / k)
    if atom * n >= 1:
        counts = np.concatenate([[np.sum(z == 0)], counts])
        expected = np.concatenate([[n * atom], expected])
    else:
        counts[0] += np.sum(z == 0)
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    dof = counts.size - 1
    chi2_p = float(special.chdtrc(dof, chi2))
    mz = {}
    for order in moments:
        zk = z**order
        se = zk.std(ddof=1) / math.sqrt(n)
        exact = float(law.moment(order))
        mz[int(order)] = float((zk.mean() - exact) / se) if se > 0 else (0.0 if zk.mean() == exact else math.inf)
    return Comparison(n, d, ks_p, chi2, dof, chi2_p, mz)
