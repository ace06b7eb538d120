"""Grids and the continuous parts of laws that live on them.

Two discretisations, one per route of :mod:`sigdist.operator`:

* :class:`LogGrid` / :class:`LogGridDensity`: the density ``q(u)`` of ``u = log z``
  sampled on a uniform grid. The exact chi2-mixture operators produce ``q`` at the
  grid points with spectral accuracy (trapezoid rule on smooth, rapidly decaying
  integrands), and the density is evaluated between grid points by its
  trigonometric interpolant, so CDF values keep that accuracy.
* :class:`Lattice` / :class:`LatticeDensity`: masses on ``z_j = j * spacing``
  from the generic FFT route, read as a piecewise-linear density.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _fft
from ._numba import njit

__all__ = ["LogGrid", "LogGridDensity", "Lattice", "LatticeDensity"]

_TAIL_NODES, _TAIL_WEIGHTS = np.polynomial.legendre.leggauss(16)


@dataclass(frozen=True)
class LogGrid:
    """Uniform grid ``u_i = start + i * spacing``, ``i < size``, in ``u = log z``."""

    start: float
    spacing: float
    size: int

    def __post_init__(self):
        if not (math.isfinite(self.start) and math.isfinite(self.spacing) and self.spacing > 0):
            raise ValueError(f"spacing must be finite and > 0 and start finite, got {self.spacing!r}, {self.start!r}")
        if isinstance(self.size, bool) or not isinstance(self.size, (int, np.integer)) or self.size < 2:
            raise ValueError(f"size must be an integer >= 2, got {self.size!r}")
        object.__setattr__(self, "size", int(self.size))

    @classmethod
    def from_range(cls, z_min: float, z_max: float, size: int):
        """Grid of ``size`` points from ``log z_min`` to ``log z_max`` (``0 < z_min < z_max``)."""
        if not (0 < z_min < z_max and math.isfinite(z_max)):
            raise ValueError(f"need 0 < z_min < z_max < inf, got z_min={z_min!r}, z_max={z_max!r}")
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 2:
            raise ValueError(f"size must be an integer >= 2, got {size!r}")
        lo, hi = math.log(z_min), math.log(z_max)
        return cls(lo, (hi - lo) / (int(size) - 1), int(size))

    @property
    def points(self):
        return self.start + self.spacing * np.arange(self.size)

    @property
    def end(self):
        return self.start + self.spacing * (self.size - 1)

    @property
    def z(self):
        return np.exp(self.points)


class LogGridDensity:
    """Continuous part of a law on ``(0, inf)`` given by the density of ``u = log z`` on a :class:`LogGrid`.

    Parameters
    ----------
    grid : LogGrid
    values : ndarray
        ``q(u_i)``, the density of ``log z`` (defective: integrates to the mass of
        the continuous part).

    Notes
    -----
    ``q`` is extended by zeros to twice its length and represented by its
    trigonometric interpolant. Its integral from the grid start is a Fourier
    series too, so ``cdf`` and ``pdf`` between grid points are as accurate as the
    samples, provided ``q`` is resolved by the grid (its spectrum has decayed at
    the Nyquist frequency ``pi / spacing``; :attr:`resolution_error` reports the
    relative size of the last retained Fourier coefficients).
    """

    def __init__(self, grid: LogGrid, values):
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (grid.size,):
            raise ValueError(f"values must have shape ({grid.size},), got {values.shape}")
        self.grid = grid
        self.values = values
        h = grid.spacing
        self.mass = float(h * values.sum())
        m = 2 * grid.size
        spec = _fft.rfft(values, m)  # Q_k, k = 0..m/2
        period = m * h
        omega = 2.0 * math.pi * np.arange(spec.size) / period
        # drop the Nyquist term and the modes below roundoff
        mag = np.abs(spec)
        floor = 1e-17 * max(mag[0], 1e-300)
        significant = np.nonzero(mag[:-1] > floor)[0]
        n_keep = max(int(significant[-1]) + 1 if significant.size else 1, 2)
        # What the top quarter of the kept modes contributes to the integral of q: where the grid
        # resolves q this is roundoff; where it does not, it is the size of the CDF error.
        top = np.arange(max(1, (3 * n_keep) // 4), n_keep)
        self.resolution_error = float(2.0 * np.sum(mag[top] / m / omega[top]))
        self._coef = spec[:n_keep] / m  # q(t) = c0 + 2 Re sum_{k>=1} c_k e^{i w_k t}
        self._omega1 = omega[1]
        # cumulative integral at the grid points, from the same series, by one inverse FFT:
        # F(t_j) = c0 t_j + g_j - g_0 with g_j = 2 Re sum_k c_k e^{i w_k t_j} / (i w_k)
        anti = np.zeros(spec.size, dtype=complex)
        anti[1:n_keep] = self._coef[1:] / (1j * omega[1:n_keep])
        g = _fft.irfft(anti, m)[:grid.size] * m
        self._cum_grid = self._coef[0].real * (self.grid.points - grid.start) + g - g[0]
        self._anti, self._g0 = anti, g[0]

    def cdf_between_nodes(self):
        """``int_{-inf}^u q`` at the midpoints ``u_i + spacing / 2``, ``i < size - 1``: the series of
        :meth:`cdf_u`, shifted by half a step, summed by one inverse FFT (not one sum a point)."""
        g, m = self.grid, 2 * self.grid.size
        shift = np.exp(0.5j * self._omega1 * g.spacing * np.arange(self._anti.size))
        cum = _fft.irfft(self._anti * shift, m)[:g.size - 1] * m - self._g0
        cum += self._coef[0].real * (g.points[:-1] - g.start + 0.5 * g.spacing)
        return np.clip(cum, 0.0, self.mass)

    def cdf_at_nodes(self):
        """``int_{-inf}^u q`` at the grid's nodes (one inverse FFT, done on construction)."""
        return np.clip(self._cum_grid, 0.0, self.mass)

    def _integral(self, u):
        t = np.asarray(u, dtype=np.float64) - self.grid.start
        return _trig_sum(t.ravel(), self._coef, self._omega1, True).reshape(t.shape)

    def density_u(self, u):
        """``q(u)`` (density of ``log z``); 0 outside the grid."""
        u = np.asarray(u, dtype=np.float64)
        t = u - self.grid.start
        out = _trig_sum(t.ravel(), self._coef, self._omega1, False).reshape(t.shape)
        inside = (u >= self.grid.start) & (u <= self.grid.end)
        return np.where(inside, np.maximum(out, 0.0), 0.0)

    def log_density_u(self, u):
        """``log q(u)`` with relative accuracy in the tails (``-inf`` outside the grid).

        In the bulk the trigonometric interpolant (:meth:`density_u`); where ``q`` falls below 1e-8
        of its peak, whose absolute roundoff would swamp it, the cubic through ``log q`` at the four
        nearest nodes: the same interpolant :meth:`tail_u` integrates, so density and tails agree.
        """
        u = np.asarray(u, dtype=np.float64)
        shape = u.shape
        u = u.ravel()
        g = self.grid
        with np.errstate(divide="ignore"):
            out = np.log(self.density_u(u))
        peak = float(np.max(self.values)) if self.values.size else 0.0
        inside = (u >= g.start) & (u <= g.end)
        faint = inside & ~(out > math.log(max(peak, 1e-300)) + math.log(1e-8))
        if np.any(faint):
            t = (u[faint] - g.start) / g.spacing
            i = np.clip(t.astype(np.int64), 0, g.size - 2)
            frac = t - i
            with np.errstate(invalid="ignore"):  # -inf - (-inf) at nodes where q = 0: not used below
                stencil = self._log_stencils(i)  # nodes -1, 0, 1, 2 of cell i
            nodes = np.array([-1.0, 0.0, 1.0, 2.0])
            basis = np.ones((frac.size, 4))
            for j in range(4):
                for k in range(4):
                    if k != j:
                        basis[:, j] *= (frac - nodes[k]) / (nodes[j] - nodes[k])
            with np.errstate(invalid="ignore"):
                cubic = np.sum(basis * np.where(np.isfinite(stencil), stencil, 0.0), axis=1)
            ok = np.all(np.isfinite(stencil), axis=1)
            out[np.nonzero(faint)[0][ok]] = cubic[ok]
        return out.reshape(shape)

    def cdf_u(self, u):
        """``int_{-inf}^u q`` (the part below the grid start is lost mass, counted elsewhere)."""
        u = np.asarray(u, dtype=np.float64)
        uc = np.clip(u, self.grid.start, self.grid.end)
        out = np.clip(self._integral(uc), 0.0, self.mass)
        return np.where(u >= self.grid.end, self.mass, out)

    def _log_stencils(self, i):
        """``log q`` at cell ``i``'s four nodes ``i-1..i+2`` (linear extrapolation past the grid ends)."""
        q = self.values
        with np.errstate(divide="ignore", invalid="ignore"):  # -inf - (-inf) where the ends are 0: left -inf
            L = np.log(np.maximum(q, 0.0))
            ends = [2 * L[0] - L[1], 2 * L[-1] - L[-2]]
        ends = [e if not np.isnan(e) else -np.inf for e in ends]
        L = np.concatenate([[ends[0]], L, [ends[1]]])  # padded: L[j + 1] is node j
        return np.stack([L[i], L[i + 1], L[i + 2], L[i + 3]], axis=-1)

    def _cell_integral(self, i, lo, hi):
        """``int`` over the fraction ``[lo, hi]`` of cell ``i`` of ``exp(cubic through log q)`` (16-point Gauss)."""
        stencil = self._log_stencils(i)  # (m, 4)
        s = 0.5 * (lo + hi)[:, None] + 0.5 * (hi - lo)[:, None] * _TAIL_NODES[None, :]
        nodes = np.array([-1.0, 0.0, 1.0, 2.0])
        basis = np.ones(s.shape + (4,))
        for j in range(4):
            for k in range(4):
                if k != j:
                    basis[..., j] *= (s - nodes[k]) / (nodes[j] - nodes[k])
        finite = np.all(np.isfinite(stencil), axis=-1)
        with np.errstate(invalid="ignore", over="ignore"):
            logs = np.einsum("mgj,mj->mg", basis, np.where(np.isfinite(stencil), stencil, 0.0))
            val = np.exp(logs) @ _TAIL_WEIGHTS * 0.5 * (hi - lo)
        # where a node's density is 0 the logs fail: integrate the linear interpolant of q instead
        q = np.maximum(self.values, 0.0)
        q0, q1 = q[i], q[np.minimum(i + 1, q.size - 1)]
        linear = (q0 * (hi - lo) + 0.5 * (q1 - q0) * (hi * hi - lo * lo))
        return self.grid.spacing * np.where(finite, val, linear)

    def tail_u(self, u, upper=True):
        """``int_u^end q`` (``upper``) or ``int_start^u q`` with relative accuracy in the far tails.

        The trigonometric integral (``cdf_u``) is accurate to ~1e-16 absolute; here each cell
        is integrated as ``exp`` of the cubic through ``log q`` at four nodes, so tail
        masses of 1e-30 keep their leading digits (exact for power-law tails).
        """
        u = np.asarray(u, dtype=np.float64)
        shape = u.shape
        u = u.ravel()
        g, h = self.grid, self.grid.spacing
        if not hasattr(self, "_cells"):
            idx = np.arange(g.size - 1)
            self._cells = self._cell_integral(idx, np.zeros(idx.size), np.ones(idx.size))
        cells = self._cells
        t = np.clip((u - g.start) / h, 0.0, g.size - 1.0)
        i = np.minimum(t.astype(np.int64), g.size - 2)
        frac = t - i
        if upper:
            right = np.concatenate([np.cumsum(cells[::-1])[::-1], [0.0]])
            out = right[i + 1] + self._cell_integral(i, frac, np.ones(frac.size))
        else:
            left = np.concatenate([[0.0], np.cumsum(cells)])
            out = left[i] + self._cell_integral(i, np.zeros(frac.size), frac)
        return np.maximum(out, 0.0).reshape(shape)

    def moment(self, order):
        """``int e^{order u} q(u) du`` by the trapezoid rule on the grid (spectrally accurate)."""
        u = self.grid.points
        with np.errstate(over="ignore"):
            return float(self.grid.spacing * np.sum(self.values * np.exp(order * u)))

    def cdf_table(self, refine=4):
        """``(u, F(u))`` on a grid ``refine`` times finer, for inverse-transform sampling."""
        u = self.grid.start + (self.grid.spacing / refine) * np.arange((self.grid.size - 1) * refine + 1)
        return u, np.maximum.accumulate(np.clip(self._integral(u), 0.0, self.mass))


@njit
def _trig_sum(t, coef, omega1, integrate):
    # q(t) = c0 + 2 Re sum_k c_k e^{i w_k t}; its integral from 0 is
    # c0 t + 2 Re sum_k c_k (e^{i w_k t} - 1) / (i w_k)
    out = np.empty(t.shape[0])
    n = coef.shape[0]
    for i in range(t.shape[0]):
        rot = complex(math.cos(omega1 * t[i]), math.sin(omega1 * t[i]))
        e = rot
        acc = coef[0].real * t[i] if integrate else coef[0].real
        for k in range(1, n):
            if integrate:
                acc += 2.0 * (coef[k] * (e - 1.0) / complex(0.0, omega1 * k)).real
            else:
                acc += 2.0 * (coef[k] * e).real
            e *= rot
            if k % 64 == 0:  # re-anchor the rotation to keep roundoff at machine level
                e = complex(math.cos(omega1 * (k + 1) * t[i]), math.sin(omega1 * (k + 1) * t[i]))
        out[i] = acc
    return out


@dataclass(frozen=True)
class Lattice:
    """Lattice ``z_j = j * spacing``, ``j < size``."""

    spacing: float
    size: int

    @property
    def points(self):
        return self.spacing * np.arange(self.size)


class LatticeDensity:
    """Continuous part of a law on ``[0, inf)`` from lattice masses (generic FFT route).

    Masses ``c_j`` at ``z_j = j * spacing`` are read as the piecewise-linear density
    through ``d_0 = 2 c_0 / spacing`` and ``d_j = c_j / spacing`` (``j >= 1``), the
    reading under which linear (mean-preserving) binning is second-order accurate.
    """

    def __init__(self, lattice: Lattice, masses):
        masses = np.asarray(masses, dtype=np.float64)
        self.grid = lattice
        self.masses = masses
        self.mass = float(masses.sum())
        d = masses / lattice.spacing
        d[0] *= 2.0
        self._d = d
        cum = np.empty(masses.size)
        cum[0] = 0.0
        cum[1:] = np.cumsum(0.5 * (d[:-1] + d[1:])) * lattice.spacing
        self._cum = cum

    def pdf(self, z):
        z = np.asarray(z, dtype=np.float64)
        zmax = self.grid.spacing * (self.grid.size - 1)
        out = np.interp(z, self.grid.points, self._d, left=0.0, right=0.0)
        return np.where((z < 0) | (z > zmax), 0.0, np.maximum(out, 0.0))

    def cdf(self, z):
        z = np.asarray(z, dtype=np.float64)
        h = self.grid.spacing
        zc = np.clip(z, 0.0, h * (self.grid.size - 1))
        j = np.minimum((zc // h).astype(np.int64), self.grid.size - 2)
        t = zc - j * h
        dj, dj1 = self._d[j], self._d[j + 1]
        out = self._cum[j] + dj * t + (dj1 - dj) * t * t / (2.0 * h)
        return np.clip(out, 0.0, self.mass)

    def moment(self, order):
        return float(np.sum(self.masses * self.grid.points ** order))

    def cdf_table(self, refine=4):
        h = self.grid.spacing / refine
        z = h * np.arange((self.grid.size - 1) * refine + 1)
        return z, np.maximum.accumulate(self.cdf(z))
