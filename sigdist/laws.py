"""The law the operator produces: :class:`SquaredNormLaw`, a :class:`~sigdist._law.Law`.

A :class:`SquaredNormLaw` is the law of a squared norm ``z >= 0``: an explicit atom
``P(z = 0)`` plus a continuous part held on a log grid (exact routes) or a lattice
(generic route). It answers the whole ``scipy.stats`` frozen contract of
:class:`~sigdist._law.Law` from the hooks below, and adds what a discretised result owes
its user: the grid, the mass lost off it, an error estimate (a bound on the sup-norm
CDF error), tails with relative accuracy (``sf``, ``logsf``, ``cdf_continuous``,
``isf`` down to 1e-300) and moments from the exact recursion (``log_moment``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ._checks import check_order, check_points
from ._law import Law
from ._quantiles import bisect_table, log_tail_density, solve_log_tail
from ._warnings import SigdistWarning
from ._product_rule import mixing_nodes
from .grid import LogGridDensity
from .moments import MAX_ORDER, NoExactMoments, chain_right_tails, logsumexp, product_tails

__all__ = ["SquaredNormLaw"]


class SquaredNormLaw(Law):
    """Law of a squared norm ``z >= 0``: an atom at 0 plus a continuous part.

    Parameters
    ----------
    atom : float
        ``P(z = 0)``.
    continuous : LogGridDensity or LatticeDensity or None
        The continuous part (defective density; None when the law is the atom alone).
    discretisation_error : float
        Bound or estimate of the CDF error from discretisation (aliasing of the
        log grid, or the lattice spacing), not counting the lost mass.
    tol : float
        The accuracy asked for; a warning is issued when :attr:`error_estimate` exceeds it.
    label : str
        What the law is of (for ``repr`` and messages).
    warn : bool
        Warn at construction when the error estimate exceeds ``tol``.
    tail_index : float
        See below.
    moments : sigdist.moments.MomentChain, optional
        The exact moment recursion that reaches this law (:meth:`log_moment` reads it).
    step : sigdist.one_step.OneStep, optional
        The kernel averaged over the previous law's nodes: the tails with relative accuracy.
    series : sigdist.series.SeriesMixture, optional
        Exact evaluators of the continuous part (the Fourier route's series): the CDF, density and quantiles
        in the bulk come from them, not from the grid's interpolation; the grid serves far tails and next layers.
    grid_error : float, optional
        The grid's own CDF error where it exceeds ``discretisation_error`` (a law with ``series``).

    Attributes
    ----------
    atom : float
    mass_lost : float
        ``1 - atom - (mass of the continuous part)``: probability that fell off the grid.
    error_estimate : float
        ``mass_lost + discretisation_error``: a bound on the sup-norm CDF error.
    grid_error : float
        The CDF error of the grid as a quadrature of the law (what a next layer carries).
    grid : LogGrid or Lattice or None
    tail_index : float
        ``alpha`` with ``P(z > t) ~ t^-alpha`` where known (stationary laws); moments of
        order ``>= alpha`` are ``inf``. ``inf`` (default) for laws with all moments.
    """

    _support = (0.0, math.inf)

    def __init__(self, atom, continuous=None, *, discretisation_error=0.0, tol=1e-8, label="|x|^2",
                 warn=True, tail_index=math.inf, moments=None, step=None, series=None, grid_error=None):
        self.atom = float(atom)
        # the continuous part's exact evaluators (sigdist.series.SeriesMixture): CDF between the grid's nodes
        self._series = series if isinstance(continuous, LogGridDensity) else None
        # the one-step average of the kernel over the previous law (sigdist.one_step.OneStep), which
        # answers the tails of a biased or one-layer law with relative accuracy
        self._step = step
        # exact moment recursion of this law (sigdist.moments.MomentChain), when one reaches it
        self._moments = moments
        self.continuous = continuous
        cont_mass = continuous.mass if continuous is not None else 0.0
        if self._series is not None:
            cont_mass = self._series.mass  # what the cdf and sf read
        self.mass_lost = max(0.0, 1.0 - self.atom - cont_mass)
        # a grid holding more than 1 - atom (roundoff of its quadrature) is as wrong as one losing mass:
        # the excess joins the error estimate and sf / cdf are clipped to the probabilities they must be
        excess = max(0.0, self.atom + cont_mass - 1.0)
        self.discretisation_error = float(discretisation_error) + excess
        self.error_estimate = self.mass_lost + self.discretisation_error
        # the grid's own lost mass reaches a next layer by itself (its nodes' weights): not counted here
        self.grid_error = self.discretisation_error if grid_error is None else float(grid_error) + excess
        self.tol = float(tol)
        self.label = label
        # P(z > t) ~ t^-tail_index: moments of that order and above are infinite, whatever the grid holds
        self.tail_index = float(tail_index)
        if not (math.isfinite(self.atom) and math.isfinite(cont_mass) and math.isfinite(self.error_estimate)):
            raise FloatingPointError(f"law of {label}: non-finite atom, mass or error estimate")
        if warn and self.error_estimate > self.tol:
            warnings.warn(
                f"law of {label}: error estimate {self.error_estimate:.3g} (mass lost {self.mass_lost:.3g}, "
                f"discretisation {self.discretisation_error:.3g}) exceeds tol={self.tol:.3g}",
                SigdistWarning,
                stacklevel=3,
            )

    # -- representation --------------------------------------------------------------------
    @property
    def grid(self):
        return None if self.continuous is None else self.continuous.grid

    @property
    def moment_chain(self):
        """The exact moment recursion that reaches this law (:class:`sigdist.moments.MomentChain`), or None."""
        return self._moments

    one_step = property(lambda self: self._step, doc="The :class:`sigdist.one_step.OneStep` behind the tails, or None.")

    @property
    def _is_log(self):
        return isinstance(self.continuous, LogGridDensity)

    def __repr__(self):
        kind = "log-grid" if self._is_log else ("lattice" if self.continuous is not None else "atom")
        return (f"{type(self).__name__}({self.label}, atom={self.atom:.3g}, {kind}, "
                f"mass_lost={self.mass_lost:.2g}, error_estimate={self.error_estimate:.2g})")

    # -- continuous part in z -------------------------------------------------------------------
    @property
    def _cont_mass(self):
        """The continuous part's mass as the cdf and sf read it (the series' where the law has them)."""
        return 0.0 if self.continuous is None else (self.continuous if self._series is None else self._series).mass

    def _cont_cdf(self, z):
        if self.continuous is None:
            return np.zeros_like(z)
        if self._series is not None:
            return np.clip(self._series.cdf(np.maximum(z, 0.0)), 0.0, self._series.mass)
        if self._is_log:
            with np.errstate(divide="ignore"):
                return self.continuous.cdf_u(np.log(np.maximum(z, 0.0)))
        return self.continuous.cdf(z)

    def _cont_pdf(self, z):
        if self.continuous is None:
            return np.zeros_like(z)
        if self._is_log:
            pos = z > 0
            zz = np.where(pos, z, 1.0)
            return np.where(pos, self.continuous.density_u(np.log(zz)) / zz, 0.0)
        return self.continuous.pdf(z)

    def _exact_tail(self, upper):
        """``(f, threshold)``: ``f(t)`` is the continuous part's tail at ``t > 0`` with relative accuracy
        (``P(z > t)`` if ``upper`` else ``P(0 < z <= t)``), used where the grid's value is below
        ``threshold`` times the continuous mass; ``(None, 0)`` when no exact route reaches this law."""
        cache = self.__dict__.setdefault("_exact_tail_cache", {})
        if upper in cache:
            return cache[upper]
        out = (None, 0.0)
        step = getattr(self, "_step", None)
        if step is not None and (step.point or (not upper and step.floor)):
            out = (lambda t: step.tail(t, upper), math.inf)  # closed form, or an average floored by the bias
        elif step is not None and upper:
            # averaged over the previous law, whose grid holds its right tail near the bulk only; a chi-square
            # chain from a point is summed in log space instead (sigdist._chain_tails)
            chain = chain_right_tails(self._moments)
            f = chain.tail if chain else (lambda t: step.tail(t, upper))
            out = (f, max(1e-6, min(1e-3, 1e8 * self.error_estimate)))
        elif self._moments is not None and self._is_log:  # a lattice law stays an independent cross-check
            tails = product_tails(self._moments)
            if tails is not None:  # where the grid's absolute error costs > 1e-8 relative (a saddle off the bulk)
                out = (lambda t: tails.tail(t, upper), max(1e-6, min(1e-3, 1e8 * self.error_estimate)))
        cache[upper] = out
        return out

    def _cont_tail(self, x, upper):
        """The continuous part's ``P(0 < z <= x)`` or ``P(z > x)`` (lost mass excluded), for ``x >= 0``."""
        if self.continuous is None:
            return np.zeros_like(x)
        cont, mass = self.continuous, self._cont_mass
        top = self._series.top if self._series is not None else math.inf
        if x.size and np.max(x) >= top:  # past z's largest value
            below = self._cont_tail(np.minimum(x, np.nextafter(top, 0.0)), upper)
            return np.where(x >= top, 0.0 if upper else mass, below)
        if self._series is not None and self._series.relative:  # exact in both tails (one unit's inversion)
            return np.clip(self._series.sf(x) if upper else self._series.cdf(x), 0.0, mass)
        lower = self._cont_cdf(x)
        value = np.clip(mass - lower, 0.0, 1.0 - self.atom) if upper else lower
        f, threshold = self._exact_tail(upper)
        pos = (x > 0) & np.isfinite(x)
        if f is not None:
            use = pos & (value < threshold * mass)
            if np.any(use):
                value = np.array(value, dtype=np.float64)
                value[use] = np.where(np.isnan(e := f(x[use])), value[use], e)  # NaN: in the bulk, the grid's
            return value
        if not self._is_log:
            return value
        # below 1e-6 of the mass the spectral CDF has lost relative accuracy to cancellation: read those tails from
        # the log-linear cell integrals (not next to z's largest value: a pile-up there, tanh's at s = 40)
        small = pos & (value < 1e-6 * mass) & ~(upper & (x > top * math.exp(-2.0 * cont.grid.spacing)))
        if np.any(small):
            with np.errstate(divide="ignore"):
                u = np.log(np.where(pos, x, 1.0))
            outside = small & ((u > cont.grid.end) if upper else (u < cont.grid.start))
            # past the grid's ends a law's series still answer, to their absolute accuracy
            value = np.where(small & ~(outside & (self._series is not None)), cont.tail_u(u, upper=upper), value)
            if np.any(outside) and self._series is None:
                edge = math.exp(cont.grid.end if upper else cont.grid.start)
                warnings.warn(f"law of {self.label}: {'sf' if upper else 'cdf'} asked at "
                              f"{float(x[outside].flat[0]):.3g}, beyond the grid's {'end' if upper else 'start'} "
                              f"{edge:.3g}: that tail is not resolved (below {self.error_estimate:.2g})",
                              SigdistWarning, stacklevel=4)
        return value

    # -- the Law hooks (continuous part; the atom at 0 is added by Law) --------------------------
    def _cdf(self, x):
        """``P(0 < z <= x)``, relative accuracy in the left tail (0 for ``x <= 0``)."""
        return np.where(x <= 0, 0.0, self._cont_tail(np.maximum(x, 0.0), upper=False))

    def _sf(self, x):
        """``P(z > x)`` of the continuous part, computed from the right (relative accuracy far out);
        ``1 - atom`` left of 0, so that ``sf(x < 0) = 1``."""
        return np.where(x < 0, 1.0 - self.atom, self._cont_tail(np.maximum(x, 0.0), upper=True))

    def _pdf(self, x):
        if not self._is_log:
            return self._cont_pdf(x)
        with np.errstate(under="ignore"):
            return np.exp(self._logpdf(x))

    def _logpdf(self, x):
        if not self._is_log:
            return super()._logpdf(x)
        # log q(log z) - log z: finite where q / z would underflow; relative accuracy in the tails
        pos = (x > 0) & np.isfinite(x)
        zz = np.where(pos, x, 1.0)
        with np.errstate(divide="ignore"):
            out = np.where(pos, self.continuous.log_density_u(np.log(zz)) - np.log(zz), -np.inf)
        if self._series is not None:
            # in the bulk the series' density (the grid interpolates between its nodes); in the tails the
            # grid's, whose relative accuracy the series' absolute one would lose
            peak = float(np.max(self.continuous.values))
            bulk = pos & (out + np.log(zz) > math.log(max(peak, 1e-300)) + math.log(1e-6))
            if self._series.relative:
                bulk = pos
            if np.any(bulk):
                dens = self._series.density(zz[bulk])
                with np.errstate(divide="ignore"):
                    out[bulk] = np.where(dens > 0, np.log(np.maximum(dens, 1e-300)), out[bulk])
        # where the grid's density has run out of digits (past its ends, or below 1e-14 of its peak) and a
        # one-step route gives cdf and sf (a closed form, cheap), the density is their derivative: the same
        # numbers. (Mellin-Barnes tails cost seconds a point: zero-bias chains keep the grid, which spans them.)
        step = getattr(self, "_step", None)
        if step is not None:
            g = self.continuous.grid
            peak = float(np.max(self.continuous.values))
            with np.errstate(divide="ignore"):
                log_u = np.log(zz)
            faint = pos & ((log_u < g.start) | (log_u > g.end) | (out + np.log(zz) < math.log(max(peak, 1e-300))
                                                                 + math.log(_FAINT)))
            lower = self._cont_cdf(zz)
            for upper in (False, True):
                f, threshold = self._exact_tail(upper)
                if f is None:
                    continue
                value = self._cont_mass - lower if upper else lower
                use = faint & (value < threshold * self._cont_mass) & (value <= 0.5 * self._cont_mass)
                if np.any(use):
                    out[use] = np.where(np.isnan(d := log_tail_density(f, zz[use])), out[use], d)
        return out

    def _logcdf(self, x):
        # left of the median from the left tail, right of it as log1p(-sf): both keep relative accuracy
        c = self.cdf(x)
        s = self.sf(x)
        with np.errstate(divide="ignore"):
            return np.where(c <= 0.5, np.log(c), np.log1p(-np.minimum(s, 1.0)))

    def _logsf(self, x):
        c = self.cdf(x)
        s = self.sf(x)
        with np.errstate(divide="ignore"):
            return np.where(s <= 0.5, np.log(s), np.log1p(-np.minimum(c, 1.0)))

    def _ppf(self, p):
        return self._invert(np.asarray(p, dtype=np.float64), upper=False)

    def _isf(self, p):
        return self._invert(np.asarray(p, dtype=np.float64), upper=True)

    def _moment(self, order):
        value, err = self.log_moment(order)
        if err > self.tol:
            warnings.warn(f"law of {self.label}: E[z^{order:g}] has relative error estimate {err:.3g} > "
                          f"tol={self.tol:.3g} (from the grid, or from an input law's extrapolated tail)", SigdistWarning,
                          stacklevel=3)
        if value > 709.78 and math.isfinite(value):
            warnings.warn(f"law of {self.label}: E[z^{order:g}] = exp({value:.10g}) exceeds the float64 range; "
                          f"log_moment({order:g}) gives it", SigdistWarning, stacklevel=3)
        return math.inf if value > 709.78 else math.exp(value)

    def _rvs(self, size, rng):
        # inverse transform through the CDF table of the grid (linear interpolation in u = log z)
        u = rng.random(size)
        out = np.zeros(np.shape(u))
        if self.continuous is None:
            return out
        grid_u, cum = self.continuous.cdf_table()
        target = np.minimum(u - self.atom, cum[-1])
        pos = target > 0
        x = np.interp(target[pos] if np.ndim(u) else target, cum, grid_u)
        if self._is_log:
            x = np.exp(x)
        if np.ndim(u):
            out[pos] = x
            return out
        return float(x) if pos else 0.0

    def cdf_continuous(self, x):
        """``P(0 < z <= x)``: the continuous part alone, with relative accuracy where ``cdf`` would be
        swamped by the atom (``cdf(x) = atom + cdf_continuous(x)``)."""
        x = check_points(x, "x")
        out = np.where(x <= 0, 0.0, self._cont_tail(np.nan_to_num(np.maximum(x, 0.0)), upper=False))
        return np.where(np.isnan(x), np.nan, out)[()]

    def ppf_continuous(self, p):
        """``x`` with ``cdf_continuous(x) = p``: quantiles of the continuous part below the atom's resolution
        (``ppf(atom + p)`` for ``p`` far below ``atom * 1e-16``)."""
        p = check_points(p, "p")
        mass = self._cont_mass
        bad = np.isnan(p) | (p < 0) | (p > mass)
        if np.any(bad):
            raise ValueError(f"p must lie in [0, {mass:.17g}] (the continuous mass), got {p[bad].flat[0]!r}")
        out = np.zeros(p.shape)
        inside = p > 0
        if np.any(inside):
            out[inside] = self._invert(p[inside], upper=False)
        return out[()]

    def ppf(self, q):
        """Quantile function: the smallest ``x`` with ``cdf(x) >= q`` (relative accuracy in the left tail).

        Above the represented mass ``1 - mass_lost`` (and below 1) the grid's upper end is
        returned with a :class:`SigdistWarning`, not ``inf``: the law is not known there.
        """
        out = super().ppf(q)
        if self.continuous is None:
            return out
        q = np.asarray(q, dtype=np.float64)
        beyond = (q - self.atom >= self.continuous_mass) & (q < 1)
        if np.any(beyond):
            warnings.warn(
                f"law of {self.label}: ppf asked above the represented mass 1 - mass_lost = "
                f"{self.atom + self._cont_mass:.17g}; returning the grid's upper end", SigdistWarning,
                stacklevel=2)
            out = np.where(beyond, self.grid_top(), out)[()]
        return out

    def grid_top(self):
        g = self.continuous.grid
        return math.exp(g.end) if self._is_log else g.spacing * (g.size - 1)

    def _invert(self, target, upper):
        """``x`` with ``P(0 < z <= x) = target`` (or ``P(z > x) = target``), from the same function as cdf/sf."""
        f, threshold = self._exact_tail(upper)
        mass = self._cont_mass
        exact = (target < threshold * mass) if f is not None else np.zeros(target.shape, dtype=bool)
        out = np.empty(target.shape)
        if np.any(~exact):
            lower = (mass - target[~exact]) if upper else target[~exact]
            out[~exact] = self._invert_grid(np.clip(lower, 0.0, mass))
        for i in np.nonzero(exact)[0]:
            out[i] = self._invert_exact(f, float(target[i]), upper)
        return out

    def _invert_exact(self, f, target, upper):
        lower = min(max(self._cont_mass - target if upper else target, 1e-300), self._cont_mass)
        grid = max(float(self._invert_grid(np.array([lower]))[0]), 1e-300)
        x = solve_log_tail(f, target, math.log(grid), upper, self.label)
        return grid if x is None else x

    def _invert_grid(self, target):
        cont = self.continuous
        if not self._is_log:
            return bisect_table(cont.grid.points, cont._cum, cont.cdf, target)
        # with series, the same function as cdf: theirs, not the grid's interpolant
        f = (lambda u: self._cont_cdf(np.exp(u))) if self._series is not None else cont.cdf_u
        x = bisect_table(cont.grid.points, cont._cum_grid, f, target, widen=self._series is not None)
        if np.any(x > 709.78):
            warnings.warn(f"law of {self.label}: a quantile exp({float(x.max()):.10g}) exceeds the float64 range "
                          "(returned as inf)", SigdistWarning, stacklevel=4)
        with np.errstate(over="ignore"):
            return np.exp(x)

    def quadrature_nodes(self, spacing=1 / 64):
        """``(log_z, weights, cdf_error)``: the atom (``log z = -inf``) and the grid as a discrete law, in
        logs so that laws reaching past 1e308 keep their nodes; a law with series: product integration
        against their CDF (:func:`sigdist._product_rule.mixing_nodes`, panels of 8 ``spacing`` in ``log z``;
        the default resolves any smooth function of ``z`` to roundoff), not the grid's samples."""
        cont = self.continuous
        if self._series is not None:
            cache = self.__dict__.setdefault("_nodes", {})
            if spacing not in cache:
                cache[spacing] = mixing_nodes(self._series, self.atom, cont.grid, spacing)
            log_z, w, dropped = cache[spacing]
            return log_z, w, self.error_estimate + dropped
        log_z, w = [np.array([-np.inf])], [np.array([self.atom])]
        if cont is not None:
            if self._is_log:
                log_z.append(cont.grid.points)
                w.append(cont.grid.spacing * np.maximum(cont.values, 0.0))
            else:
                with np.errstate(divide="ignore"):
                    log_z.append(np.log(cont.grid.points))
                w.append(cont.masses)
        # the grid's own CDF error (a law with exact evaluators is more accurate than its grid)
        return np.concatenate(log_z), np.concatenate(w), self.grid_error + self.mass_lost

    def log_moment(self, order):
        """``(log E[z^order], relative error estimate)``, finite where ``E[z^order]`` overflows float64.

        Exact (error 0) where a moment recursion reaches this law: integer orders for
        homogeneous activations with or without bias, any real order for zero-bias chi-square
        layers (:mod:`sigdist.moments`). Otherwise the grid's sum, whose error estimate adds
        the part of the moment beyond the grid (bounded by Markov's inequality with the next
        exact integer moment) to the grid's relative CDF error.
        """
        order = check_order(order)
        if order == 0:
            return 0.0, 0.0
        if order >= self.tail_index:
            return math.inf, 0.0
        node = self._moments
        if node is not None:
            try:
                if float(order).is_integer() and order <= MAX_ORDER:
                    logm, err = node.log_moments(int(order))
                    return float(logm[-1]), float(err[-1])
                value = node.log_real_moment(float(order))
                if value is not None:
                    return value, 0.0
            except NoExactMoments:
                pass
        return self._grid_log_moment(float(order))

    def _grid_log_moment(self, order):
        cont = self.continuous
        if cont is None:
            return -math.inf, 0.0
        log_z, w, _ = self.quadrature_nodes()
        keep = (w > 0) & np.isfinite(log_z)
        value = logsumexp(np.log(w[keep]) + order * log_z[keep])
        log_top = float(log_z[keep].max()) if np.any(keep) else 0.0
        err = self.grid_error + self.mass_lost
        # what lies beyond the grid's end: E[z^r 1{z > t}] <= E[z^m] / t^(m - r) for the next exact order m
        try:
            if self._moments is None:
                raise NoExactMoments
            m = math.floor(order) + 1
            log_m, _ = self._moments.log_moments(m)
            err += math.exp(min(float(log_m[-1]) - (m - order) * log_top - value, 700.0))
        except NoExactMoments:
            # |int z^r d(F - F_grid)| <= eps * top^r on [0, top]; beyond the grid nothing is known
            err = math.exp(min(math.log(max(err, 1e-300)) + order * log_top - value, 700.0))
        return value, err

    def var(self):
        """``Var z = E[z]^2 (E[z^2] / E[z]^2 - 1)`` from :meth:`log_moment`: no cancellation of two
        overflowing numbers (the Law default ``E[z^2] - E[z]^2`` would overflow first)."""
        l1, e1 = self.log_moment(1)
        l2, e2 = self.log_moment(2)
        if math.isinf(l2) and l2 > 0:
            return math.inf
        if math.isinf(l1):  # the atom alone
            return 0.0
        # Var = E[z]^2 (E[z^2] / E[z]^2 - 1): no cancellation of two overflowing numbers
        rel = max(e1, e2)
        ratio = math.expm1(l2 - 2.0 * l1)
        if rel > self.tol:
            warnings.warn(f"law of {self.label}: the variance has relative error estimate about "
                          f"{2 * rel / max(ratio, 1e-300):.3g} (moments from the grid)", SigdistWarning, stacklevel=2)
        with np.errstate(over="ignore"):
            return float(np.exp(2.0 * l1) * max(ratio, 0.0))


    def expect(self, func=None, lb=None, ub=None, conditional=False):
        r"""``E[func(z)]`` over ``lb <= z <= ub`` (divided by that probability when ``conditional``).

        Over the whole support the law's own quadrature nodes are used: the atom and, on a log
        grid, the trapezoid rule in ``u = log z``, :math:`\sum_i h\, q(u_i)\, f(e^{u_i})`, which
        converges geometrically for smooth ``func`` (the grid resolves ``q`` to its error
        estimate); on a lattice the masses at its nodes. A range cuts the integrand, so
        :meth:`Law.expect <sigdist._law.Law.expect>` integrates it adaptively instead.
        ``func`` may be vectorised; a scalar function is called node by node.
        """
        full = (lb is None or float(check_points(lb, "lb")) <= 0.0) and \
            (ub is None or float(check_points(ub, "ub")) == math.inf)
        if not full or self.continuous is None:
            return super().expect(func, lb, ub, conditional)
        if func is None:
            func = lambda x: x  # noqa: E731
        if not callable(func):
            raise ValueError(f"func must be a callable f(x), got {func!r}")
        log_z, w, _ = self.quadrature_nodes()
        keep = w > 0
        with np.errstate(over="ignore"):
            z = np.exp(log_z[keep])
        total = float(w[keep] @ _values_at(func, z))
        if conditional:
            total /= float(w[keep].sum())
        return total

    def entropy(self):
        r"""Differential entropy :math:`-E[\log p(z)]` of a law without atom, on its own nodes
        (``ValueError`` when there is an atom: a mixed law has none)."""
        if self.atom > 0 or self.continuous is None:
            return super().entropy()
        return -self.expect(self._logpdf)


_FAINT = 1e-14  # below this share of its peak the grid's density is roundoff: the exact tail's derivative is used


def _values_at(func, z):
    """``func`` at every node: one vectorised call, or one call a node for a scalar function."""
    try:
        out = np.asarray(func(z), dtype=np.float64)
        if out.shape == z.shape:
            return out
    except (TypeError, ValueError):
        pass
    return np.array([float(func(np.float64(v))) for v in z])
