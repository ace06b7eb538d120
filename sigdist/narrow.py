r"""The law of a narrow layer's squared norm given its variance, in real space: CDFs convolved in ``g``.

Where one unit's law piles up at 0 over many scales (gelu at a large variance: :math:`\phi(h)^2 \sim
e^{-h^2} / 2\pi` as :math:`h \to -\infty` makes :math:`P(X < x) \sim x^{1/(2s)}`), the Fourier series of
:mod:`sigdist.fourier` cannot converge: its coefficients decay like :math:`k^{-N/(2s)}`. This module
computes the same law, :math:`z = \sum_{i \le N} X_i` with :math:`X_i = \psi(g_i) = \phi(\sqrt{s}\, g_i)^2`
(Burkholz & Dubatovka 2019, Prop. 1), without a transform:

.. math:: F_1(x) = P(\psi(g) \le x), \qquad F_k(x) = \int F_{k-1}(x - \psi(g))\, \varphi(g)\, dg, \quad k = 2..N,

:math:`F_1` exactly (:class:`sigdist.one_unit.OneUnit`, the monotone pieces of :math:`\psi` inverted),
the others by quadrature in ``g``. :math:`F_k` is singular only at sums of at most ``k`` critical values
of :math:`\phi^2` (:meth:`sigdist.activations.Activation.critical_values`), so in ``g`` the integrand is
analytic except where :math:`x - \psi(g)` meets one of :math:`F_{k-1}`'s singular points: the ``g`` axis is
cut at those preimages, at the pieces' ends and at fixed points (every 0.5 up to ``|g| = 3``, then 4 and
5; beyond 9.5 the Gaussian mass is 2e-21), and each interval is integrated by the tanh-sinh rule,
which converges exponentially with algebraic singularities at the ends. Each :math:`F_k` is tabulated in
``u = log x`` on Chebyshev-Lobatto panels of degree 16 graded geometrically towards each of its singular
points (to 2e-15 relative, about the resolution of ``u``) and halved while their last two coefficients
exceed the tolerance; ``log x`` holds the pile-up at 0, where :math:`F_k` behaves like a power of ``x``
(times logs), in a few panels down to :math:`x = e^{-690} P`. The tables' error, measured between their
nodes (:meth:`_Table.check_points`), and the quadrature's are the law's error estimate. An atom of one unit
at 0 (where ``phi`` underflows to 0) enters as :math:`F_1(0+)`, and :math:`P(z = 0)` is its ``N``-th power.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ._numba import njit
from .activations import invert_monotone
from .one_unit import OneUnit, density_from_log, quantile_u

__all__ = ["NarrowGroup", "NarrowLaw", "narrow_applies"]

_DEG = 16
# singular points (sums of critical values) are listed up to this width (FourierKernel.singular_points)
SINGULAR_WIDTH = 16
_TS_STEP, _TS_REACH = 1.0 / 6.0, 3.2  # 41 nodes an interval (at step 1/4, gelu at s = 37 was 2.7e-9 off)
_G_END = 9.5
_CUTS = np.concatenate([np.arange(0.5, 3.01, 0.5), [4.0, 5.0]])  # past 5 the Gaussian mass is 3e-7 in all
_CUTS = np.concatenate([-_CUTS[::-1], [0.0], _CUTS])
_LOG_SPAN = 690.0  # the tables reach down to x = e^-690 P; what F_N holds there is counted in the error
_GRADE_TO = 2e-15  # relative to |u|: about the resolution of u = log x in doubles
_FILL = 4.0  # widest initial panel in u
_FILL_FAR = 32.0  # left of the first singular point: the pile-up at 0, a power of x (times logs), smooth in u
_ROUNDS = 10


def _lobatto(n):
    """Chebyshev-Lobatto points on [-1, 1] (descending) and the matrix taking values there to coefficients."""
    j = np.arange(n + 1)
    t = np.cos(math.pi * j / n)
    c = np.cos(math.pi * np.outer(j, j) / n) * (2.0 / n)
    c[:, [0, -1]] *= 0.5
    c[[0, -1], :] *= 0.5
    return t, c


_T, _TO_COEF = _lobatto(_DEG)
# coefficients of the derivative (in t) from those of the function
_DERIV = np.stack([np.polynomial.chebyshev.chebder(np.eye(_DEG + 1)[i], m=1, scl=1.0).tolist() + [0.0]
                   for i in range(_DEG + 1)], axis=1)


def _tanh_sinh():
    k = np.arange(-math.ceil(_TS_REACH / _TS_STEP), math.ceil(_TS_REACH / _TS_STEP) + 1)
    t = k * _TS_STEP
    z = 0.5 * math.pi * np.sinh(t)
    # the node's distance from either end as a fraction of the interval, each without cancellation
    from_lo, from_hi = 1.0 / (1.0 + np.exp(-2.0 * z)), 1.0 / (1.0 + np.exp(2.0 * z))
    weight = _TS_STEP * 0.25 * math.pi * np.cosh(t) / np.cosh(z) ** 2
    return from_lo, from_hi, weight


_TS_LO, _TS_HI, _TS_W = _tanh_sinh()
# the rule of twice the step: every other node (t = 0 among them), twice the weight
_TS_W2 = np.where(np.arange(_TS_W.size) % 2 == (_TS_W.size // 2) % 2, 2.0 * _TS_W, 0.0)


@njit(nogil=True)
def _evaluate(starts, ends, coef, u, below, above):
    """Piecewise Chebyshev series at ``u`` (Clenshaw): ``below`` left of the first panel, ``above`` right of
    the last."""
    out = np.empty(u.size)
    n_pan, n_c = coef.shape
    for i in range(u.size):
        x = u[i]
        if x <= starts[0]:
            out[i] = below
            continue
        if x >= ends[n_pan - 1]:
            out[i] = above
            continue
        p = np.searchsorted(starts, x, side="right") - 1
        t = (2.0 * x - starts[p] - ends[p]) / (ends[p] - starts[p])
        t = min(1.0, max(-1.0, t))
        b1, b2 = 0.0, 0.0
        for k in range(n_c - 1, 0, -1):
            b1, b2 = coef[p, k] + 2.0 * t * b1 - b2, b1
        out[i] = coef[p, 0] + t * b1 - b2
    return out


class _Table:
    """A function of ``u`` on Chebyshev-Lobatto panels, halved where their last two coefficients exceed ``tol``;
    ``below`` left of the panels, ``above`` right of them."""

    def __init__(self, fn, edges, tol, below=0.0, above=1.0):
        self.below, self.above = below, above
        a, b = edges[:-1], edges[1:]
        parent = np.full(a.size, np.inf)
        done_a, done_b, done_c = [], [], []
        self.evaluations = 0
        for step in range(_ROUNDS + 1):
            u = 0.5 * (a + b)[:, None] + 0.5 * (b - a)[:, None] * _T[None, :]
            values = fn(u.ravel()).reshape(u.shape)
            self.evaluations += u.size
            coef = values @ _TO_COEF.T
            tail = np.abs(coef[:, -1]) + np.abs(coef[:, -2])
            # halve while the tail exceeds tol and halving still helps (else it is the integrand's roundoff)
            split = (tail > tol) & (tail < 0.5 * parent) & (b - a > 1e-13 * np.maximum(1.0, np.abs(a)))
            if step == _ROUNDS:
                split[:] = False
            keep = ~split
            done_a.append(a[keep]), done_b.append(b[keep]), done_c.append(coef[keep])
            if not split.any():
                break
            mid = 0.5 * (a[split] + b[split])
            a, b = np.concatenate([a[split], mid]), np.concatenate([mid, b[split]])
            parent = np.concatenate([tail[split], tail[split]])
        a, b, coef = np.concatenate(done_a), np.concatenate(done_b), np.concatenate(done_c)
        order = np.argsort(a)
        self.starts, self.ends, self.coef = a[order], b[order], np.ascontiguousarray(coef[order])
        self.slope = np.ascontiguousarray(self.coef @ _DERIV.T * (2.0 / (self.ends - self.starts))[:, None])

    def __call__(self, u):
        u = np.asarray(u, dtype=np.float64)
        return _evaluate(self.starts, self.ends, self.coef, u.ravel(), self.below, self.above).reshape(u.shape)

    def derivative(self, u):
        u = np.asarray(u, dtype=np.float64)
        return _evaluate(self.starts, self.ends, self.slope, u.ravel(), 0.0, 0.0).reshape(u.shape)

    def check_points(self):
        """Where the table is checked: halfway between the Lobatto nodes, three in every panel wider than 1e-11
        (the narrower ones, next to a singular point at the resolution of ``u``, hold x-intervals of relative
        width below 1e-11 in all; the next convolution weighs them by the Gaussian mass of their preimages)."""
        t = np.cos(math.pi * (np.array([0, _DEG // 2, _DEG - 1]) + 0.5) / _DEG)
        wide = self.ends - self.starts > 1e-11
        a, b = self.starts[wide], self.ends[wide]
        return (0.5 * (a + b)[:, None] + 0.5 * (b - a)[:, None] * t[None, :]).ravel()


def _graded_edges(points, lo, hi):
    """Panel edges on ``[lo, hi]`` (in ``u``), graded geometrically (ratio 1/2) towards each of ``points``
    from both sides, down to the resolution of ``u`` there, at most ``_FILL`` wide elsewhere (``_FILL_FAR`` left of
    the first point, where the table's tolerance halves them as far as the pile-up at 0 needs)."""
    points = sorted(p for p in points if lo < p < hi)
    stops = [lo] + points + [hi]
    edges = []
    for i in range(len(stops) - 1):
        p, q = stops[i], stops[i + 1]
        d = min(0.5 * (q - p), _FILL)
        grade_p, grade_q = i > 0, i + 2 < len(stops)
        segment = [p]
        if grade_p:
            n = int(math.ceil(math.log2(d / (_GRADE_TO * max(1.0, abs(p))))))
            segment += [p + d * 0.5 ** j for j in range(n, -1, -1)]
        stop = q - d if grade_q else q
        count = max(1, int(math.ceil((stop - segment[-1]) / (_FILL if i > 0 else _FILL_FAR))))
        segment += np.linspace(segment[-1], stop, count + 1)[1:].tolist()
        if grade_q:
            n = int(math.ceil(math.log2(d / (_GRADE_TO * max(1.0, abs(q))))))
            segment += [q - d * 0.5 ** j for j in range(1, n + 1)]
        edges += segment
    edges.append(hi)
    return np.unique(np.array(edges))


def merge_close(points):
    """The sorted distinct ``points``, those within 1e-13 (relative) of the one before merged into it (sums
    of critical values in another order differ by roundoff)."""
    points = np.sort(np.asarray(points, dtype=np.float64))
    if points.size == 0:
        return points
    keep = np.concatenate([[True], np.diff(points) > 1e-13 * np.maximum(np.abs(points[1:]), 1e-300)])
    return points[keep]


def sums_of(values, count, top, most=np.inf):
    """0 and the sums of at most ``count`` of ``values`` (repeats allowed) up to ``top``, to roundoff; growth
    stops once there are more than ``most``."""
    values = np.asarray(values, dtype=np.float64)
    sums = np.zeros(1)
    for _ in range(count):
        grown = merge_close(np.concatenate([sums, (sums[:, None] + values[None, :]).ravel()]))
        grown = grown[grown <= top]
        if grown.size == sums.size or sums.size > most:
            break
        sums = grown
    return sums


class NarrowLaw:
    r"""The law of :math:`z = \sum_{i \le N} \phi(\sqrt{s}\, g_i)^2` given ``s``, by CDF convolution in ``g``
    (module docstring): the interface of :class:`sigdist.series.KernelSeries` (``cdf_continuous``,
    ``density``, ``log_density``, ``quantile_u``, ``continuous_mass``, ``end``).

    Parameters
    ----------
    activation : Activation
        One whose square keeps no positive value on a stretch of positive mass (an atom at 0 is kept).
    width : int
        ``N``.
    s : float
        The variance, ``> 0``.
    end : float
        Where the law is read up to (the Chernoff end of the Fourier window: mass beyond it at most the
        caller's budget); the CDF is 1 past it.
    critical : ndarray
        The critical values of :math:`\phi^2` (:meth:`sigdist.activations.Activation.critical_values`): the
        singular points of :math:`F_k` are the sums of at most ``k`` of them.
    tol : float
        Target accuracy of every table.

    Attributes
    ----------
    error : float
        The CDF error: the tables' interpolation errors (each convolution passes its input's on with
        weight at most 1), the quadrature's, the Gaussian mass beyond ``|g| = 9.5`` per unit, and the mass of
        ``(0, e^{-690} P]`` (the table's left end; the CDF reads 0 there).
    """

    def __init__(self, activation, width, s, end, critical, tol=1e-12):
        self.width, self.s, self.end = int(width), float(s), float(end)
        unit = OneUnit(activation, self.s)
        # an atom of X at 0 (gelu's far left tail underflows to 0 at a large variance) is the value of F_k at 0+
        self.atom = unit.atom ** self.width
        self.continuous_mass = 1.0 - self.atom
        self._psi = unit._psi
        self._pieces = [p for p in unit._pieces if p[2] != 0]
        # z <= N sup psi: exact where phi is bounded (tanh at s = 4000 is 1.0 in float64 on 3/4 of the mass, and
        # the table's jump at z = 5 would leave 0.29 of F(5) out); beyond |g| = 12 elsewhere (mass 1e-33)
        self.top = self.width * max((p[4] for p in self._pieces), default=0.0)
        log_end = math.log(self.end)
        self.error = self.width * 2.0 * float(special.ndtr(-_G_END))
        self.evaluations = 0
        table, points = None, np.zeros(1)
        prev = prev_points = None
        for k in range(1, self.width + 1):
            if k == 1:
                fn = (lambda u: unit.atom + unit.cdf_continuous(np.exp(u)))  # noqa: E731
            else:
                # F_{k-1}'s singular points cut the g axis
                fn = (lambda u, prev=table, cut=points: self._convolve(prev, cut, np.exp(u)))  # noqa: E731
            points = sums_of(critical, k, self.end)
            edges = _graded_edges(np.log(points[points > 0]), log_end - _LOG_SPAN, log_end)
            table = _Table(fn, edges, tol, below=unit.atom ** k)
            self.evaluations += table.evaluations
            u = table.check_points()
            if k == 1:
                self.error += float(np.max(np.abs(table(u) - fn(u))))
            else:
                # one pass gives the interpolation error and the quadrature's: the rule of twice the step
                # errs by d (its difference from the rule), and a double-exponential rule's error falls
                # like e^{-c/h}, so halving the step squares it: d^2 (at least 1e-16)
                fine, coarse = self._convolve(prev, prev_points, np.exp(u), both=True)
                d = float(np.max(np.abs(fine - coarse)))
                self.error += float(np.max(np.abs(table(u) - fine))) + max(d * d, 1e-16)
            prev, prev_points = table, points
        self._table = table
        self.error += max(float(table(np.array([log_end - _LOG_SPAN + 1e-9]))[0]) - self.atom, 0.0)

    def _convolve(self, prev, points, x, chunk=2048, both=False):
        r""":math:`\int F_{k-1}(x - \psi(g))\, \varphi(g)\, dg` at each ``x``, ``F_{k-1}`` given by its table and
        singular at ``points`` (``both``: and by the rule of twice the step)."""
        out = np.empty((2, x.size))
        for i in range(0, x.size, chunk):
            out[:, i:i + chunk] = self._convolve_chunk(prev, points, x[i:i + chunk])
        return out if both else out[0]

    def _convolve_chunk(self, prev, points, x):
        n = x.size
        shifted = (x[:, None] - points[None, :]).ravel()
        cuts = [np.broadcast_to(_CUTS, (n, _CUTS.size)), np.full((n, 2), _G_END)]
        cuts[1][:, 0] = -_G_END
        for a, b, kind, lo, hi in self._pieces:
            cuts.append(np.broadcast_to(np.array([a, b]), (n, 2)))
            inside = (shifted > lo) & (shifted < hi)
            g = np.full(shifted.size, np.nan)
            if np.any(inside):
                g[inside] = invert_monotone(self._psi, a, b, kind, shifted[inside])
            cuts.append(g.reshape(n, -1))
        cut = np.concatenate(cuts, axis=1)
        cut = np.sort(np.clip(np.where(np.isnan(cut), _G_END, cut), -_G_END, _G_END), axis=1)
        lo, hi = cut[:, :-1], cut[:, 1:]
        row, col = np.nonzero(hi > lo)
        lo, hi = lo[row, col], hi[row, col]
        # an interval holds no cut: where x - psi < 0 at its middle, F_{k-1} = 0 on all of it
        live = x[row] - self._psi(0.5 * (lo + hi)) > 0.0
        row, lo, hi = row[live], lo[live], hi[live]
        length = (hi - lo)[:, None]
        g = np.where(_TS_LO[None, :] <= 0.5, lo[:, None] + length * _TS_LO[None, :],
                     hi[:, None] - length * _TS_HI[None, :])
        gauss = length * np.exp(-0.5 * g * g) / math.sqrt(2.0 * math.pi)
        y = x[row][:, None] - self._psi(g)
        with np.errstate(divide="ignore"):
            inner = gauss * np.where(y > 0.0, prev(np.log(np.where(y > 0.0, y, 1.0))), 0.0)
        return np.stack([np.bincount(row, weights=inner @ _TS_W, minlength=n),
                         np.bincount(row, weights=inner @ _TS_W2, minlength=n)])

    def cdf_continuous(self, z):
        """``P(0 < Z <= z)`` from the table of :math:`F_N`."""
        z = np.asarray(z, dtype=np.float64)
        with np.errstate(divide="ignore"):
            u = np.log(np.where(z > 0.0, z, 1.0))
        inside = np.where(z > 0.0, np.clip(self._table(u) - self.atom, 0.0, self.continuous_mass), 0.0)
        return np.where(z >= self.top, self.continuous_mass, inside)

    def log_density(self, u):
        """Density of ``log z`` at ``u``: the table's slope in ``u``."""
        u = np.asarray(u, dtype=np.float64)
        inside = np.maximum(self._table.derivative(u), 0.0)
        return np.where(u >= math.log(self.top), 0.0, inside) if self.top > 0 else np.zeros(u.shape)

    def density(self, z):
        """Density of ``z`` at ``z > 0`` (0 elsewhere)."""
        return density_from_log(self.log_density, z)

    def quantile_u(self, level):
        """``log z`` with ``P(Z <= z) = level``, to 1e-3."""
        return quantile_u(self.cdf_continuous, self.end, self.continuous_mass, level)


def narrow_applies(kernel, atoms, s_max):
    """Whether :class:`NarrowGroup` can take a group's law: a narrow layer (its singular points
    known), an atom of ``z`` at 0 below 1e-18 (``atoms``: the group's; gelu's far left tail underflows to 0 at
    a large variance, an atom of one unit of 3e-10 at s = 37, of z 1e-48), and no positive value that ``phi^2``
    keeps, to the last bit, on a stretch of positive mass (up to the group's largest variance)."""
    if kernel.width > SINGULAR_WIDTH or np.any(atoms > 1e-18):
        return False
    return not OneUnit(kernel.activation, s_max)._points


# a group of more than 13 variances is read at 12 Chebyshev nodes in log s (G(x | s) is analytic in s; over a
# factor 2 in s, gelu at width 5 is read within 2e-12 at 12 nodes, 1.5e-10 at 10, 1.2e-8 at 8)
_DIRECT, _NODES = 13, 12


class NarrowGroup:
    r"""A group's mixture :math:`\sum_i w_i\, G(\cdot \mid s_i)` of :class:`NarrowLaw`\ s, with the interface of
    :class:`sigdist.series.KernelSeries` (its part of a layer's law, :func:`sigdist.fourier.mixed_log_density`).

    Up to 13 variances each gets its own law; more are read at 12 Chebyshev nodes in ``log s`` over the
    group's range, with the weights :math:`\sum_i w_i \ell_j(\log s_i)` of the interpolation (``G(x | s)`` is
    analytic in ``s``), and the law of the member furthest from every node is computed directly to measure
    the interpolation's error. A group whose whole weight is within ``negligible`` is one law at its middle
    variance, with its weight as the error (two CDFs differ by at most 1).

    Attributes
    ----------
    error : float
        CDF error of the mixture: the laws' own errors weighted by ``|coefficient|`` and the interpolation's.
    interpolation_error : float
        The interpolation's CDF error for one member (per unit weight; 0 when each member has its own law).
    """

    def __init__(self, kernel, s, weights, end, negligible=0.0):
        s = np.asarray(s, dtype=np.float64)
        weights = np.asarray(weights, dtype=np.float64)
        act, n = kernel.activation, kernel.width
        critical = act.critical_values(end)
        self.end = float(end)
        self.continuous_mass = float(weights.sum())
        make = (lambda v: NarrowLaw(act, n, v, end, critical))  # noqa: E731
        self.interpolation_error = 0.0
        if self.continuous_mass <= negligible:
            self._laws, self._coef = [make(float(np.sqrt(s.min() * s.max())))], np.array([self.continuous_mass])
            self._basis = np.ones((s.size, 1))
            self.error = self.continuous_mass
            self.interpolation_error = 1.0  # every member reads the one law: two CDFs differ by at most 1
            return
        if s.size <= _DIRECT:
            self._laws, self._coef, self._basis = [make(v) for v in s], weights, np.eye(s.size)
            self.error = float(sum(w * law.error for law, w in zip(self._laws, weights)))
            return
        t = np.log(s)
        mid, half = 0.5 * (t.max() + t.min()), 0.5 * (t.max() - t.min())
        theta = (2 * np.arange(_NODES) + 1) * math.pi / (2 * _NODES)
        nodes = mid + half * np.cos(theta)
        basis = _lagrange(nodes, np.sin(theta) * (-1.0) ** np.arange(_NODES), t)
        self._laws, self._coef, self._basis = [make(math.exp(v)) for v in nodes], weights @ basis, basis
        far = int(np.argmax(np.min(np.abs(t[:, None] - nodes[None, :]), axis=1)))
        direct = make(s[far])
        probe = np.exp(np.concatenate([direct._table.starts, direct._table.ends[-1:]]))
        read = sum(b * law.cdf_continuous(probe) for law, b in zip(self._laws, basis[far]))
        self.interpolation_error = float(np.max(np.abs(read - direct.cdf_continuous(probe))))
        self.error = float(sum(abs(c) * law.error for law, c in zip(self._laws, self._coef))
                           + self.continuous_mass * self.interpolation_error)

    top = property(lambda self: max(law.top for law in self._laws), doc="``N sup psi`` (:attr:`NarrowLaw.top`).")

    def _sum(self, name, x):
        return sum(c * getattr(law, name)(x) for law, c in zip(self._laws, self._coef))

    @property
    def member_error(self):
        """The largest CDF error of one member read from the laws: their errors weighted by the member's
        ``|basis|``, and the interpolation's."""
        errors = np.array([law.error for law in self._laws])
        return float(np.max(np.abs(self._basis) @ errors) + self.interpolation_error)

    def members(self, name, x):
        """``(x.size, members)``: each member's own ``name`` (``"log_density"``, ``"cdf_continuous"``, ...) at
        ``x``, read from the laws as the mixture is (each member's error: its laws', and the interpolation's)."""
        return np.stack([getattr(law, name)(x) for law in self._laws], axis=1) @ self._basis.T

    def cdf_continuous(self, z):
        """``P(0 < Z <= z)`` of the group's mixture."""
        return self._sum("cdf_continuous", z)

    def density(self, z):
        return self._sum("density", z)

    def log_density(self, u):
        return self._sum("log_density", u)

    def quantile_u(self, level):
        """``log z`` where the mixture's CDF is ``level`` times its mass, to 1e-3."""
        return quantile_u(self.cdf_continuous, self.end, self.continuous_mass, level)


def _lagrange(nodes, bary, t):
    """``L[i, j] = l_j(t_i)``, the Lagrange basis of ``nodes`` (barycentric weights ``bary``) at ``t``."""
    diff = t[:, None] - nodes[None, :]
    exact = diff == 0.0
    terms = bary[None, :] / np.where(exact, 1.0, diff)
    basis = terms / terms.sum(axis=1, keepdims=True)
    hit = exact.any(axis=1)
    basis[hit] = exact[hit].astype(np.float64)
    return basis
