r"""The law of one unit's squared activation, exactly: :math:`X = \phi(\sqrt{s} g)^2` inverted piece by piece.

On each monotone piece ``[a, b]`` of :math:`g \mapsto \phi(\sqrt{s} g)^2` (found once per range by
:meth:`sigdist.activations.Activation._pieces_in_g`) the level set of ``x`` is one point, found by bisection,
so :math:`P(X \le x)` is a sum of Gaussian masses and the density of :math:`\log X` a sum of
:math:`\varphi(g)\, x / |d\phi(\sqrt s g)^2/dg|`. A layer of width 1 is this law (the Fourier route's
answer for ``N = 1``, :mod:`sigdist.fourier`); pieces where ``phi`` vanishes are an atom at 0, and a piece
where :math:`\phi^2` is constant and positive to the last bit is a point mass there (in the CDF and sf; the
densities leave it out). A piece flat only next to the range of :math:`\phi^2` (gelu's left tail, below
3e-11 where the range reaches 700) is inverted like the others.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from .activations import invert_monotone

__all__ = ["OneUnit", "density_from_log", "quantile_u", "vanishes"]


class OneUnit:
    """The law of ``X = phi(sqrt(s) g)^2`` for one unit: ``log_density``, ``density``, ``cdf_continuous``,
    ``sf_continuous``, ``quantile_u``, ``period`` (``sup X``, slightly above) and ``atom`` (``P(X = 0)``), as
    :class:`sigdist.series.KernelSeries`."""

    def __init__(self, activation, s):
        self.s = float(s)
        root = math.sqrt(self.s)
        self._psi = lambda g: np.asarray(activation.phi(root * g), dtype=np.float64) ** 2  # noqa: E731
        self._pieces = []
        self._points = []  # (value, mass): psi constant and positive on a piece (a point mass of X)
        self.atom = 0.0
        top = 0.0
        for a, b, kind in activation._pieces_in_g(root):
            if kind == 0 and vanishes(activation, root * a, root * b, kind):  # an atom of X at 0
                self.atom += float(special.ndtr(b) - special.ndtr(a))
                continue
            pa, pb = float(self._psi(np.float64(a))), float(self._psi(np.float64(b)))
            if kind == 0:
                # flat only next to the range of psi (gelu's left tail: psi < 3e-11 where the range is 700), so
                # monotone still unless it is constant to the last bit; its mass belongs to X either way
                if pa == pb:
                    self._points.append((pa, abs(float(special.ndtr(b) - special.ndtr(a)))))
                    top = max(top, pa)
                    continue
                kind = 1 if pb > pa else -1
            self._pieces.append((a, b, kind, min(pa, pb), max(pa, pb)))
            top = max(top, pa, pb)
        self.period = top * (1.0 + 1e-12) if top > 0 else 1.0

    def log_density(self, u):
        r""":math:`p_{\log X}(u) = \sum_{g: \psi(g) = e^u} \varphi(g)\, e^u / |\psi'(g)|` over the pieces
        (central differences for :math:`\psi'`: relative accuracy about 1e-10)."""
        u = np.asarray(u, dtype=np.float64)
        target = np.exp(u)
        out = np.zeros(u.shape)
        for a, b, kind, lo, hi in self._pieces:
            inside = (target > lo) & (target < hi)
            if not np.any(inside):
                continue
            g = invert_monotone(self._psi, a, b, kind, target[inside])
            step = 1e-6 * max(1.0, float(np.abs(g).max()))
            slope = np.abs(self._psi(g + step) - self._psi(g - step)) / (2.0 * step)
            out[inside] += np.exp(-0.5 * g * g) / math.sqrt(2 * math.pi) * target[inside] / np.maximum(slope, 1e-300)
        return out

    @property
    def continuous_mass(self):
        """``P(X > 0) = 1 - atom``."""
        return 1.0 - self.atom

    def density(self, x):
        """Density of ``X`` at ``x > 0`` (0 elsewhere): :meth:`log_density` over ``x``."""
        return density_from_log(self.log_density, x)

    def _levels(self, x):
        """For each piece: ``(a, b, kind, lo, hi, g)`` with ``g`` where ``psi`` reaches ``x`` (clipped to the piece)."""
        x = np.asarray(x, dtype=np.float64)
        for a, b, kind, lo, hi in self._pieces:
            t = np.clip(x, lo, hi)
            yield a, b, kind, lo, hi, invert_monotone(self._psi, a, b, kind, t.ravel()).reshape(t.shape)

    def cdf_continuous(self, x):
        """``P(0 < X <= x)``: the Gaussian mass of ``{g: 0 < psi(g) <= x}`` piece by piece."""
        x = np.asarray(x, dtype=np.float64)
        out = np.zeros(x.shape)
        for a, b, kind, lo, hi, g in self._levels(x):
            # the mass of the piece below the level, from the end where psi is smallest; none below the piece's
            # range, all of it above (where psi is flat to the last bits, tanh^2 within 1e-14 of 1, bisection
            # for a level at the range's end may stop anywhere on the flat stretch)
            part = np.abs(special.ndtr(g) - special.ndtr(a if kind > 0 else b))
            out += np.where(x < lo, 0.0, np.where(x >= hi, abs(float(special.ndtr(b) - special.ndtr(a))), part))
        for value, mass in self._points:
            out += np.where(x >= value, mass, 0.0)
        return out

    def sf_continuous(self, x):
        """``P(X > x)`` for ``x >= 0``, from the far end of each piece: relative accuracy up to ``sup X``."""
        x = np.asarray(x, dtype=np.float64)
        out = np.zeros(x.shape)
        for a, b, kind, lo, hi, g in self._levels(x):
            end = b if kind > 0 else a  # where psi is largest
            # the Gaussian mass between g and that end, from the side of the smaller tail
            far = np.minimum(np.abs(g), abs(end))
            near = np.maximum(np.abs(g), abs(end))
            same = (np.sign(g) * np.sign(end) >= 0)
            mass = np.where(same, special.ndtr(-far) - special.ndtr(-near),
                            np.abs(special.ndtr(end) - special.ndtr(g)))
            out += np.where(x < lo, np.abs(special.ndtr(b) - special.ndtr(a)), np.where(x >= hi, 0.0, mass))
        for value, mass in self._points:
            out += np.where(x < value, mass, 0.0)
        return out

    def quantile_u(self, level):
        return quantile_u(self.cdf_continuous, self.period, 1.0 - self.atom, level)


def density_from_log(log_density, x):
    """The density of ``x`` from that of ``log x``: ``log_density(log x) / x`` for ``x > 0``, 0 elsewhere."""
    x = np.asarray(x, dtype=np.float64)
    pos = x > 0
    safe = np.where(pos, x, 1.0)
    return np.where(pos, log_density(np.log(safe)) / safe, 0.0)


def quantile_u(cdf, period, mass, level):
    """``log z`` with ``cdf(z) = level * mass`` to 1e-3, by bisection in ``log z`` below ``log period``
    (a CDF monotone up to its error; at most ``e^-800`` below the period)."""
    lo, hi = math.log(period) - 800.0, math.log(period)
    while hi - lo > 1e-3:
        mid = 0.5 * (lo + hi)
        if float(cdf(np.array([math.exp(mid)]))[0]) < level * mass:
            lo = mid
        else:
            hi = mid
    return lo


def vanishes(activation, a, b, kind):
    """Whether ``phi`` is 0 on the piece ``[a, b]`` of ``h`` (a constant piece, ``kind == 0``, that is 0 at
    both ends and its middle): its Gaussian mass is an atom of ``X = phi(h)^2``. A flat piece that is 0 at one
    end only is a tail that underflows there (gelu's, past h = -38.5: at s = 37 the piece is h < -4.6, with
    0.23 of the mass, and that mass is not at 0)."""
    if kind != 0:
        return False
    phi = activation.phi
    return all(float(phi(np.float64(h))) == 0.0 for h in (a, 0.5 * (a + b), b))
