r"""The one contract of every law sigdist returns: a ``scipy.stats``-like frozen distribution.

:class:`Law` implements the public surface once (``pdf``, ``logpdf``, ``cdf``, ``logcdf``,
``sf``, ``logsf``, ``ppf``, ``isf``, ``rvs``, ``moment``, ``mean``, ``var``, ``std``,
``median``, ``interval``, ``stats``, ``expect``, ``support``, ``entropy``), vectorised over
numpy arrays, with its arguments checked at this boundary. A law is an optional atom of mass
``atom`` at the point ``atom_at`` plus a continuous part of mass
``1 - atom - mass_lost`` (a discretised law may lose mass off its grid); the atom is handled
here once, so a subclass describes its continuous part only, through a few private hooks:

``_support`` (attribute)
    ``(a, b)``, the closed hull of the support.
``_cdf(x)``, ``_sf(x)``
    ``P(X <= x)`` and ``P(X > x)`` of the continuous part (``_sf`` defaults to
    ``continuous_mass - _cdf``; override it where the right tail needs relative accuracy).
``_pdf(x)``, ``_logpdf(x)``, ``_logcdf(x)``, ``_logsf(x)``
    Density of the continuous part and the logs (defaults: logs of the others).
``_ppf(p)``, ``_isf(p)``
    ``x`` with ``_cdf(x) = p`` (``_sf(x) = p``) for ``0 < p < continuous_mass``
    (defaults: bisection on ``_cdf``; ``_ppf(continuous_mass - p)``).
``_moment(order)``
    ``E[X^order]`` of the whole law (default: :meth:`expect` by quadrature).
``_rvs(size, rng)``
    Samples (default: inverse transform through :meth:`ppf`).

Every scalar argument gives a numpy scalar, every array an array of its shape. Probabilities
outside ``[0, 1]``, negative or non-finite moment orders and non-numeric points raise
``ValueError`` naming the argument; a NaN point gives NaN at that point (as in scipy).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from . import _export
from ._checks import check_order, check_points, check_probability
from ._random import numpy_generator
from ._warnings import SigdistWarning

__all__ = ["Law"]

# the quantiles between which expect() integrates piecewise: quad sees each part of the law at its scale
_EXPECT_BREAKS = (1e-12, 1e-6, 1e-3, 0.05, 0.25, 0.5, 0.75, 0.95, 0.999, 1 - 1e-6, 1 - 1e-12)


def power(x, order):
    """``x^order`` for real ``x``: signed for odd integer orders, ``|x|^order`` otherwise."""
    x = np.asarray(x, dtype=np.float64)
    if float(order).is_integer():
        return x ** int(order)
    return np.abs(x) ** order


class Law:
    """Base class of the laws of sigdist (see the module notes for the hooks a subclass writes)."""

    atom = 0.0
    atom_at = 0.0
    mass_lost = 0.0
    _support = (-math.inf, math.inf)
    #: relative accuracy the law was asked for; expect() and moments warn beyond it
    tol = 1e-8
    label = "X"

    # -- hooks (continuous part) ------------------------------------------------------------
    @property
    def continuous_mass(self) -> float:
        """Mass of the continuous part, ``1 - atom - mass_lost``."""
        return max(0.0, 1.0 - self.atom - self.mass_lost)

    def _cdf(self, x):
        raise NotImplementedError

    def _sf(self, x):
        return np.maximum(self.continuous_mass - self._cdf(x), 0.0)

    def _pdf(self, x):
        raise NotImplementedError(f"{type(self).__name__} has no density")

    def _logpdf(self, x):
        with np.errstate(divide="ignore"):
            return np.log(self._pdf(x))

    def _logcdf(self, x):
        with np.errstate(divide="ignore"):
            return np.log(self.cdf(x))

    def _logsf(self, x):
        with np.errstate(divide="ignore"):
            return np.log(self.sf(x))

    def _ppf(self, p):
        return self._solve(p, upper=False)

    def _isf(self, p):
        return self._solve(p, upper=True)

    def _solve(self, p, upper):
        """``x`` with ``_sf(x) = p`` (``upper``) or ``_cdf(x) = p``: each half of the mass is solved on the tail
        that holds it, since near the far end the other side's values are spaced 1e-16 apart and would round
        the quantile by 1e-16 / pdf."""
        p = np.asarray(p, dtype=np.float64)
        far = p > 0.5 * self.continuous_mass
        out = np.empty(p.shape)
        if np.any(~far):
            out[~far] = self._bisect(p[~far], upper=upper)
        if np.any(far):
            out[far] = self._bisect(self.continuous_mass - p[far], upper=not upper)
        return out

    def _moment(self, order):
        return self.expect(lambda x: power(x, order))

    def _rvs(self, size, rng):
        u = rng.random(size)
        return self.ppf(u)

    # -- helpers ------------------------------------------------------------------------------
    def _bisect(self, p, upper):
        """``x`` with ``_cdf(x) = p`` by bracketing and bisection (a fallback for laws without an inverse)."""
        p = np.atleast_1d(np.asarray(p, dtype=np.float64))
        a, b = self._support
        lo = np.full(p.shape, a if math.isfinite(a) else -1.0)
        hi = np.full(p.shape, b if math.isfinite(b) else 1.0)
        f = (lambda x: -self._sf(x)) if upper else self._cdf
        target = -p if upper else p
        if not math.isfinite(a):
            for _ in range(2100):
                low = f(lo) > target
                if not np.any(low):
                    break
                lo = np.where(low, 2.0 * lo - 1.0, lo)
        if not math.isfinite(b):
            for _ in range(2100):
                high = f(hi) < target
                if not np.any(high):
                    break
                hi = np.where(high, 2.0 * hi + 1.0, hi)
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            below = f(mid) < target
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
            if np.all(hi - lo <= 4e-16 * np.maximum(np.abs(lo), np.abs(hi)) + 1e-300):
                break
        return 0.5 * (lo + hi)

    @staticmethod
    def _nan_kept(x, out):
        return np.where(np.isnan(x), np.nan, out)[()]

    # -- the public contract ----------------------------------------------------------------
    def support(self):
        """``(a, b)``: the law lives on ``[a, b]``."""
        return tuple(float(v) for v in self._support)

    def pdf(self, x):
        """Density of the continuous part at ``x`` (an atom has no density: see :attr:`atom`)."""
        x = check_points(x, "x")
        a, b = self._support
        inside = (x >= a) & (x <= b)
        out = np.zeros(x.shape)
        if np.any(inside):
            out[inside] = self._pdf(x[inside])
        return self._nan_kept(x, out)

    def logpdf(self, x):
        """Log-density of the continuous part (``-inf`` off the support), finite where ``pdf`` underflows."""
        x = check_points(x, "x")
        a, b = self._support
        inside = (x >= a) & (x <= b)
        out = np.full(x.shape, -np.inf)
        if np.any(inside):
            out[inside] = self._logpdf(x[inside])
        return self._nan_kept(x, out)

    def cdf(self, x):
        """``P(X <= x)``, the atom included."""
        x = check_points(x, "x")
        xx = np.nan_to_num(x)
        out = self._cdf(xx) + self.atom * (xx >= self.atom_at)
        return self._nan_kept(x, np.clip(out, 0.0, 1.0))

    def sf(self, x):
        """``P(X > x)``, the atom included, computed from the right where the subclass can."""
        x = check_points(x, "x")
        xx = np.nan_to_num(x)
        out = self._sf(xx) + self.atom * (xx < self.atom_at)
        return self._nan_kept(x, np.clip(out, 0.0, 1.0))

    def logcdf(self, x):
        """``log P(X <= x)``, finite where ``cdf`` underflows (subclasses with a left tail in logs)."""
        x = check_points(x, "x")
        return self._nan_kept(x, self._logcdf(np.nan_to_num(x)))

    def logsf(self, x):
        """``log P(X > x)``, finite where ``sf`` underflows (subclasses with a right tail in logs)."""
        x = check_points(x, "x")
        return self._nan_kept(x, self._logsf(np.nan_to_num(x)))

    def ppf(self, q):
        """Quantile function: the smallest ``x`` with ``cdf(x) >= q``."""
        q = check_probability(q, "q")
        a, b = self._support
        below_atom = float(self._cdf(np.array([self.atom_at]))[0]) if self.atom > 0 else math.inf
        out = np.empty(q.shape)
        left = q <= below_atom
        at_atom = ~left & (q <= below_atom + self.atom)
        right = ~left & ~at_atom
        p = np.where(left, q, q - self.atom)
        inner = (left | right) & (p > 0) & (p < self.continuous_mass)
        if np.any(inner):
            out[inner] = self._ppf(p[inner])
        out[at_atom] = self.atom_at
        out[(left | right) & (p <= 0)] = a
        top = (left | right) & (p >= self.continuous_mass)
        out[top] = b
        out[q == 0] = a if self.atom == 0 or a < self.atom_at else self.atom_at
        out[q == 1] = b
        return out[()]

    def isf(self, q):
        """Inverse survival function: ``x`` with ``sf(x) = q``, solved from the right (not ``ppf(1 - q)``)."""
        q = check_probability(q, "q")
        a, b = self._support
        above_atom = float(self._sf(np.array([self.atom_at]))[0]) if self.atom > 0 else math.inf
        out = np.empty(q.shape)
        right = q < above_atom
        at_atom = ~right & (q < above_atom + self.atom)
        left = ~right & ~at_atom
        p = np.where(right, q, q - self.atom)
        inner = (left | right) & (p > 0) & (p < self.continuous_mass)
        if np.any(inner):
            out[inner] = self._isf(p[inner])
        out[at_atom] = self.atom_at
        out[(left | right) & (p <= 0)] = b
        out[(left | right) & (p >= self.continuous_mass)] = a
        out[q == 0] = b
        out[q == 1] = a if self.atom == 0 or a < self.atom_at else self.atom_at
        return out[()]

    def rvs(self, size=None, random_state=None):
        """Random samples of shape ``size`` (a float for ``size=None``).

        ``random_state``: anything sigdist takes as a seed (int, ``SeedSequence``, numpy
        ``Generator``, ``torch.Generator``); the same seed gives the same samples.
        """
        if size is not None:
            shape = (size,) if np.ndim(size) == 0 else tuple(size)
            if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in shape):
                raise ValueError(f"size must be None, an integer >= 0 or a tuple of them, got {size!r}")
            size = shape
        rng = numpy_generator(random_state, "random_state")
        out = self._rvs(size, rng)
        return float(out) if size is None else np.asarray(out, dtype=np.float64)

    def moment(self, order):
        """Raw moment ``E[X^order]`` (``order >= 0``)."""
        order = check_order(order)
        if order == 0:
            return 1.0
        return float(self._moment(order))

    def mean(self):
        """``E[X]``."""
        return self.moment(1)

    def var(self):
        """``Var X``."""
        m1 = self.mean()
        if math.isinf(m1):
            return math.inf
        return max(self.moment(2) - m1 * m1, 0.0)

    def std(self):
        """Standard deviation ``sqrt(Var X)``."""
        v = self.var()
        return math.inf if math.isinf(v) else math.sqrt(v)

    def median(self):
        """``ppf(0.5)``."""
        return float(self.ppf(0.5))

    def interval(self, confidence):
        """Equal-tailed interval ``(ppf((1 - c) / 2), isf((1 - c) / 2))`` holding probability ``c``."""
        c = check_probability(confidence, "confidence")
        a = 0.5 * (1.0 - c)
        return self.ppf(a), self.isf(a)

    def stats(self, moments="mv"):
        """Mean (``m``), variance (``v``), skewness (``s``) and excess kurtosis (``k``), as scipy orders them."""
        if not isinstance(moments, str) or not moments or set(moments) - set("mvsk"):
            raise ValueError(f"moments must be a string of the letters 'm', 'v', 's', 'k', got {moments!r}")
        m1 = self.mean()
        v = self.var()
        out = []
        for letter in "mvsk":
            if letter not in moments:
                continue
            if letter == "m":
                out.append(m1)
            elif letter == "v":
                out.append(v)
            elif math.isinf(v) or v == 0:
                out.append(math.nan if v == 0 else math.inf)
            elif letter == "s":
                m2, m3 = self.moment(2), self.moment(3)
                out.append(math.inf if math.isinf(m3) else (m3 - 3 * m1 * m2 + 2 * m1 ** 3) / v ** 1.5)
            else:
                m2, m3, m4 = self.moment(2), self.moment(3), self.moment(4)
                # an infinite fourth moment makes the kurtosis infinite (not inf - inf)
                out.append(math.inf if math.isinf(m4) else
                           (m4 - 4 * m1 * m3 + 6 * m1 * m1 * m2 - 3 * m1 ** 4) / (v * v) - 3.0)
        return out[0] if len(out) == 1 else tuple(out)

    def expect(self, func=None, lb=None, ub=None, conditional=False):
        """``E[func(X)]`` over ``lb <= X <= ub`` (divided by that probability when ``conditional``).

        The atom contributes ``atom * func(atom_at)``; the continuous part is integrated by
        adaptive quadrature piecewise between quantiles. A :class:`SigdistWarning` names the
        result when quadrature's error estimate exceeds ``tol`` relative to it.
        """
        from scipy import integrate

        if func is None:
            func = lambda x: x  # noqa: E731
        if not callable(func):
            raise ValueError(f"func must be a callable f(x), got {func!r}")
        a, b = self._support
        lo = a if lb is None else max(float(check_points(lb, "lb")), a)
        hi = b if ub is None else min(float(check_points(ub, "ub")), b)
        if not lo <= hi:
            raise ValueError(f"lb must not exceed ub, got lb={lb!r}, ub={ub!r}")
        total, err = 0.0, 0.0
        if self.atom > 0 and lo <= self.atom_at <= hi:
            total += self.atom * float(func(np.float64(self.atom_at)))
        # the sum of the pieces' sizes: the scale against which a cancelling integral's error is judged
        magnitude = abs(total)
        if self.continuous_mass > 0:
            inner_lo = max(lo, float(self.ppf(_EXPECT_BREAKS[0])))
            inner_hi = min(hi, float(self.isf(_EXPECT_BREAKS[0])))
            cuts = [inner_lo] + [float(self.ppf(q)) for q in _EXPECT_BREAKS[1:-1]] + [inner_hi]
            cuts = sorted(min(max(c, inner_lo), inner_hi) for c in cuts)

            def integrand(x):
                with np.errstate(over="ignore", under="ignore", divide="ignore"):
                    density = float(self._pdf(np.array([x]))[0])
                    # where the density underflows nothing is added (entropy's log pdf is -inf there)
                    return 0.0 if density == 0.0 else float(func(np.float64(x))) * density

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", integrate.IntegrationWarning)
                for left, right in zip(cuts[:-1], cuts[1:]):
                    if right > left:
                        value, e = integrate.quad(integrand, left, right, limit=200, epsabs=0.0, epsrel=1e-12)
                        total += value
                        err += e
                        magnitude += abs(value)
                # the outer parts decade by decade: quad on an infinite range can report a small error for
                # a slowly converging (or divergent) tail, so the tail must be seen to die out
                for start, end, sign in ((inner_hi, hi, 1.0), (inner_lo, lo, -1.0)):
                    if start == end:
                        continue
                    value, e, converged = _outer_integral(integrand, start, end, sign, self.tol, magnitude)
                    total += value
                    err += e
                    magnitude += abs(value)
                    if not converged:
                        warnings.warn(f"law of {self.label}: expect() over the {'right' if sign > 0 else 'left'} "
                                      f"tail does not die out by |x| = 1e300 (the expectation may be infinite); "
                                      f"returning the partial value {total:.6g}", SigdistWarning, stacklevel=2)
        if conditional:
            mass = float(self.cdf(hi)) - (float(self.cdf(lo)) - (self.atom if lo == self.atom_at else 0.0)) \
                if math.isfinite(lo) else float(self.cdf(hi))
            if mass <= 0:
                raise ValueError(f"conditional expectation over [{lo}, {hi}], which holds no probability")
            total, err = total / mass, err / mass
        if err > self.tol * max(magnitude, 1e-300):
            warnings.warn(f"law of {self.label}: expect() has quadrature error estimate {err:.3g} "
                          f"(value {total:.6g}), beyond tol={self.tol:.3g}", SigdistWarning, stacklevel=2)
        return total

    def entropy(self):
        """Differential entropy ``-E[log pdf(X)]`` of a law without atom (an atom leaves it undefined)."""
        if self.atom > 0:
            raise ValueError(f"entropy is not defined for the law of {self.label}: it has an atom of mass "
                             f"{self.atom:.3g} at {self.atom_at:g} (a mixed law has no differential entropy)")
        return -self.expect(lambda x: self._logpdf(np.array([x]))[0])

    def __repr__(self):
        return f"{type(self).__name__}({self.label}, atom={self.atom:.3g}, mass_lost={self.mass_lost:.2g})"

    # -- export -------------------------------------------------------------------------------
    def to_xarray(self, z=None):
        """The law tabulated at the points ``z``: an ``xarray.Dataset`` of ``pdf``, ``cdf``, ``sf``, ``logsf``.

        ``z`` defaults to 201 points from ``ppf(1e-6)`` to ``isf(1e-6)``, log-spaced when the law is
        heavy-tailed (``isf(1e-3) / median > 20``, with the atom's point in front). The attributes are
        ``type``, ``label``, ``atom`` (and ``atom_at``), ``mass_lost``, ``error_estimate``, and ``mean`` and
        ``var`` where finite. A law without density (an empirical law) has no ``pdf``.

        Examples
        --------
        >>> from sigdist import Network, squared_norm_law
        >>> ds = squared_norm_law(Network.constant(20, 3, 2 / 20)).to_xarray(z=[0.5, 1.0, 2.0])
        >>> [round(float(c), 4) for c in ds.cdf], ds.attrs["label"]
        ([0.3584, 0.6461, 0.8833], '|x^(3)|^2')
        """
        return _export.law_to_xarray(self, z)

    def to_json(self, path=None, z=None):
        """The table of :meth:`to_xarray` as a JSON object ``{"type", "attrs", "data": {"z", "pdf", ...}}``.

        NaN is written ``null`` and infinities ``"inf"`` / ``"-inf"`` (always valid JSON). With ``path``
        the text is written there (and None returned); without, it is returned.
        """
        return _export.law_to_json(self, path, z)

    def to_csv(self, path=None, z=None):
        """The table of :meth:`to_xarray` as CSV: a comment line ``# type=... label=... atom=...`` with the
        attributes, then the columns ``z,pdf,cdf,sf,logsf`` (``numpy.loadtxt(path, delimiter=",",
        skiprows=2)`` reads the numbers). With ``path`` the text is written there (and None returned);
        without, it is returned."""
        return _export.law_to_csv(self, path, z)

    def to_netcdf(self, path, z=None):
        """The table of :meth:`to_xarray` written to ``path`` as netCDF (xarray's ``scipy`` engine: netCDF3,
        no further dependency; ``xarray.open_dataset(path, engine="scipy")`` reads it back)."""
        _export.law_to_xarray(self, z).to_netcdf(path, engine="scipy")


def _outer_integral(integrand, start, end, sign, tol, scale):
    """``int integrand`` from ``start`` to ``end`` (``end`` may be infinite) over pieces growing tenfold.

    It has converged when three consecutive pieces add less than ``1e-3 tol`` of the running total, or
    when the integrand underflows to 0 after pieces that were shrinking fast enough for their geometric
    remainder to stay below ``tol`` of the total. Returns ``(value, error, converged)``.
    """
    from scipy import integrate

    total, err, quiet = 0.0, 0.0, 0
    last = []  # the last two nonzero pieces, for the geometric remainder
    a = start
    width = max(abs(start), 1.0)
    for _ in range(1400):
        if abs(a) + width > 1e300:
            break
        b = a + sign * width
        if (b - end) * sign >= 0:
            b = end
        lo_, hi_ = (a, b) if sign > 0 else (b, a)
        value, e = integrate.quad(integrand, lo_, hi_, limit=200, epsabs=0.0, epsrel=1e-12)
        total += value
        err += e
        if b == end:
            return total, err, True
        reference = max(abs(total) + scale, 1e-300)
        if value == 0.0 and last:
            # float64 ran out (the density underflowed): the tail beyond must be negligible by its decay
            ratio = abs(last[-1]) / abs(last[-2]) if len(last) == 2 else abs(last[-1]) / reference
            remainder = abs(last[-1]) * ratio / (1.0 - ratio) if ratio < 1 else math.inf
            return total, err, remainder <= tol * reference
        if value != 0.0:
            last = (last + [value])[-2:]
        quiet = quiet + 1 if abs(value) <= 1e-3 * tol * reference else 0
        if quiet >= 3:
            return total, err, True
        a, width = b, width * 10.0
    return total, err, False
