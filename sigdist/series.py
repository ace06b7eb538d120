r"""Laws given by their Fourier series on a window, and mixtures of them: the Fourier route's exact evaluators.

:class:`KernelSeries` is one law of ``z`` on ``[0, P)`` by its coefficients (one variance's, or a group's
mixture: :mod:`sigdist.fourier`); :class:`SeriesMixture` sums such parts (and one unit's exact
inversions, :class:`sigdist.one_unit.OneUnit`) into a layer's law, which a
:class:`sigdist.laws.SquaredNormLaw` reads for its CDF, density and quantiles between its grid's nodes.
"""

from __future__ import annotations

import math

import numpy as np

from ._nufft import trig_values
from .one_unit import quantile_u

__all__ = ["KernelSeries", "SeriesMixture"]


class KernelSeries:
    r"""A law of ``z`` on ``[0, P)`` given by its Fourier series (one variance's, or a group's mixture).

    Attributes
    ----------
    coef : ndarray of complex
        :math:`c_k`, ``k = 0..K``: the characteristic function of the continuous part at
        :math:`k\,\Delta t`, :math:`\Delta t = 2\pi / P` (``c_0`` its mass).
    period : float
        ``P``.
    atom : float
        ``P(z = 0)`` (``1 - atom`` is what the quantiles are of).
    mean : float or None
        :math:`E[z]` of the continuous part (exact, by quadrature), which anchors the CDF series away from
        0 (:meth:`cdf_continuous`); None anchors it at ``z = 0`` only.
    end : float
        Where the series are read up to (``<= P``; the CDF is constant past it): the window's Chernoff
        end, short of the seam ``0 = P``, near which the truncation ripple of a pile-up at 0 wraps round.
    """

    __slots__ = ("coef", "period", "atom", "mean", "end")

    def __init__(self, coef, period, atom, mean=None, end=None):
        self.coef, self.period, self.atom, self.mean = coef, period, atom, mean
        self.end = period if end is None else end

    @property
    def continuous_mass(self):
        """``c_0``: the mass of the continuous part."""
        return float(self.coef[0].real)

    def log_density(self, u):
        """Density of ``log z`` at ``u``: ``e^u f(e^u)``."""
        u = np.asarray(u, dtype=np.float64)
        z = np.exp(u)
        return z * self.density(z)

    def density(self, z):
        """Density of the continuous part at ``z`` (0 outside ``(0, end]``)."""
        z = np.asarray(z, dtype=np.float64)
        out = trig_values(self.coef, (2.0 * math.pi / self.period) * z.ravel()).reshape(z.shape) / self.period
        return np.where((z > 0) & (z <= self.end), out, 0.0)

    def cdf_continuous(self, z):
        r"""``P(0 < Z <= z)``: the series integrated termwise, :math:`(c_0 z + A - 2\,\mathrm{Re}\sum_k b_k
        e^{-i k \Delta t z}) / P` with :math:`b_k = c_k / (i k \Delta t)`.

        Two anchors fix the constant ``A``. :math:`F(0) = 0` gives :math:`A_0 = 2\,\mathrm{Re}\sum_k b_k`,
        which reads the series where it converges slowest; the exact mean gives
        :math:`A_1 = c_0 P / 2 - E z`, from :math:`\int_0^P F = P c_0 - E z` (up to the mass beyond ``P``).
        Truncated after ``K`` terms with tail ``R(z)``, the first errs by :math:`R(z) - R(0)`, the second by
        :math:`R(z)`: a pile-up of mass at 0 (gelu at width 5, :math:`P(z < x) \sim x^{N/(2s)}`) leaves
        :math:`R(0)` as an offset of the whole CDF under the first (4.7e-6 at s = 5), while the second is
        off only near 0 (1e-10 past z = 0.1). The CDF takes the first where it is below twice the anchors'
        difference and the second above, blended in between: a convex combination, never further off
        than the worse anchor, and increasing wherever the series' density is positive.
        """
        z = np.clip(np.asarray(z, dtype=np.float64), 0.0, self.end)
        dt = 2.0 * math.pi / self.period
        k = np.arange(self.coef.size)
        b = np.zeros(self.coef.size, dtype=complex)
        b[1:] = self.coef[1:] / (1j * k[1:] * dt)
        at_zero = float(trig_values(b, np.zeros(1))[0])
        out = (self.coef[0].real * z.ravel() + at_zero - trig_values(b, dt * z.ravel())) / self.period
        if self.mean is not None:
            shift = (0.5 * self.coef[0].real * self.period - self.mean - at_zero) / self.period
            if shift != 0.0:
                out = out + shift * np.clip(out / (2.0 * abs(shift)), 0.0, 1.0)
        return out.reshape(z.shape)

    def quantile_u(self, level):
        """``log z`` with ``P(0 < Z <= z) = level (1 - atom)``, to 1e-3."""
        return quantile_u(self.cdf_continuous, self.end, 1.0 - self.atom, level)


class SeriesMixture:
    r"""A layer's law as the sum of its parts' exact evaluators: the CDF and density anywhere, not only at the
    log grid's nodes.

    The log grid holds the density of ``log z`` at its nodes exactly (up to the series' errors), but between
    them it interpolates, and a density with power singularities inside the bulk (erf's saturation at
    ``z = 1, 2, ..., N``, gelu's negative minimum) is interpolated only to a power of the spacing. The
    series themselves have no such limit: each part (a group's mixed :class:`KernelSeries`, or one unit's
    exact :class:`sigdist.one_unit.OneUnit` with its weight) gives ``P(0 < z <= x)`` termwise.

    Attributes
    ----------
    mass : float
        The continuous mass of the parts (``1 - atom`` up to the windows' aliasing).
    error : float
        Their CDF error (truncation, quadrature and aliasing of the series; the previous layer's error
        is not included).
    singular : ndarray
        Points where the density may be singular (the next layer's quadrature splits its panels there).
    """

    def __init__(self, parts, error, singular=()):
        self._parts = parts  # (evaluator, weight): cdf_continuous / density of a part, times its weight
        self.singular = np.asarray(singular, dtype=np.float64)
        self.mass = float(sum(w * ev.continuous_mass for ev, w in parts))
        self.error = float(error)
        #: where the parts know it, ``z``'s largest value (:attr:`sigdist.narrow.NarrowLaw.top`); inf otherwise
        self.top = max((getattr(ev, "top", math.inf) for ev, _ in parts), default=math.inf)
        #: every part exact with relative accuracy in both tails (one unit's inversions): the grid is not needed
        self.relative = all(hasattr(ev, "sf_continuous") for ev, _ in parts)

    def _sum(self, name, z):
        """The parts' ``name`` evaluator at ``z``, weighted and summed."""
        z = np.asarray(z, dtype=np.float64)
        out = np.zeros(z.shape)
        for ev, w in self._parts:
            out += w * getattr(ev, name)(z)
        return out

    def sf(self, z):
        """``P(Z > z)`` of the continuous part (relative accuracy when :attr:`relative`)."""
        return self._sum("sf_continuous", z) if self.relative else self.mass - self.cdf(z)

    def cdf(self, z):
        """``P(0 < Z <= z)`` of the continuous part."""
        return self._sum("cdf_continuous", z)

    def density(self, z):
        """The continuous part's density at ``z``."""
        return self._sum("density", z)
