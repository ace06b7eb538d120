r"""The law of a layer's squared norm given its variance, for any activation: Fourier inversion.

Given the previous layer, :math:`z = \sum_{i \le N} X_i` with i.i.d. :math:`X_i = \phi(\sqrt{s}\, g_i)^2`,
:math:`g_i \sim N(0, 1)`, :math:`s = \sigma_w^2 y + \sigma_b^2` (Burkholz & Dubatovka 2019, Prop. 1).
For an activation without a chi-square structure (tanh, erf, gelu, silu, sigmoid, softplus, sin, a
user's callable) this module computes the kernel :math:`k(y, z)` from the characteristic function of
one unit,

.. math:: \varphi_X(t) = E\, e^{i t X} = \int e^{i t \phi(\sqrt{s} g)^2}\, \frac{e^{-g^2/2}}{\sqrt{2\pi}}\, dg,

an integral of a smooth function of ``g`` wherever :math:`\phi` is smooth: composite Gauss-Legendre
panels, placed inside the monotone pieces of :math:`\phi^2` and dense enough for the phase
:math:`t\,\phi^2`, converge geometrically. The sum has :math:`\varphi_z = \varphi_X^N`, and on a
window :math:`[0, P)` that holds all but :math:`\varepsilon` of the law, Poisson's summation formula
reads

.. math:: \sum_m f(z + mP) = \frac{1}{P} \sum_{k} \varphi_X(2\pi k / P)^N\, e^{-2\pi i k z / P},

so the density and (termwise) the CDF follow from the first ``K`` coefficients. Three errors, each
estimated and carried into the law's ``error_estimate``:

* aliasing: the mass beyond ``P`` (Chernoff's bound :math:`e^{N K_X(\theta) - \theta P}` from the
  exact cumulant generating function :math:`K_X`, by the same quadrature);
* truncation: :math:`\sum_{k > K} |\varphi_X(t_k)|^N / (\pi k)` for the CDF. It decays at least
  like :math:`t^{-N/2}` (one unit's density has an :math:`x^{-1/2}` singularity where
  :math:`\phi` vanishes) and like :math:`e^{-N \sigma_X^2 t^2 / 2}` in the bulk: geometric
  convergence for wide layers, a power :math:`N/2` for narrow ones;
* quadrature of the coefficients: the top coefficient by 24-point rules on the same panels.

Variances within a factor 2 share one window and frequency grid (:func:`group_series`), so a layer's
kernel mixed over the previous law's nodes is one series per group (:func:`mixed_log_density`); the
density of ``log z`` is sampled on a log grid like the other routes' laws, its spacing halved until
the grid resolves it. The singularities of ``z``'s density limit narrow layers (docs/method.md):
wide ones converge geometrically; width 1 is answered exactly by inverting :math:`\phi^2` piece by piece
(:class:`sigdist.one_unit.OneUnit`). An atom (where :math:`\phi` vanishes on a set of positive Gaussian
mass) is kept exactly: :math:`P(z = 0) = P(X = 0)^N`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import special

from ._nufft import unit_transform
from ._phase_rule import GL16_W, GL16_X, finer_rule, gaussian_weights, h_nodes
from ._warnings import SigdistWarning
from .grid import LogGrid, LogGridDensity
from .kernel import Chi2Mixture
from .network import Layer
from .narrow import SINGULAR_WIDTH, NarrowGroup, narrow_applies, sums_of
from .one_unit import OneUnit, vanishes
from .series import KernelSeries, SeriesMixture

__all__ = ["FourierKernel", "GroupSeries", "group_series", "mixed_log_density", "conditional_columns"]

_MAX_TERMS = 1 << 17
# a group of few variances may go further (gelu's pile-up at 0): up to 2^22 coefficients a group
_MAX_TERMS_FEW = 1 << 20
_GROUP_TERMS = 1 << 22
# narrow layers' laws are split at their singular points; at most this many of them
_SINGULAR_MAX = 400
# a law keeps its series (its CDF between the log grid's nodes) up to this many coefficients in all
_MAX_KEPT = 1 << 23
# the smallest positive variance the route takes: below it phi(h)^2 underflows (an input law's nodes there are
# left out, their weight counted as mass lost)
S_MIN = 1e-300
# the window reaches this far past the Chernoff end: the series are read only up to that end, away from
# the seam at P, where a pile-up at 0 wraps round (its truncation ripple sits on both sides of 0 = P)
_SPARE = 1.05


class FourierKernel:
    r"""The kernel :math:`k(y, z)` of one layer for any activation, by Fourier inversion in ``z``.

    Parameters
    ----------
    layer : Layer
        A layer with i.i.d. Gaussian weights; any activation.

    Notes
    -----
    What one unit needs: its monotone pieces, moments and window (:meth:`window_nodes`,
    :meth:`right_end`), its atom and the log-grid spacing its law needs.
    :func:`group_series` gives the Fourier coefficients of the law of
    :math:`z = \sum_{i \le N} \phi(\sqrt{s} g_i)^2` for a group of variances (module docstring).
    """

    def __init__(self, layer: Layer):
        self.layer = layer
        self.activation = layer.activation
        self.width = layer.width

    # -- one unit ---------------------------------------------------------------------------
    def _pieces(self, s):
        root = math.sqrt(s)
        return self.activation._pieces_in_g(root)  # monotone pieces of g -> phi(root g)^2, cached per range

    def window_nodes(self, s):
        """Gauss-Legendre nodes in ``g`` for one unit's moments and cumulant generating function (no phase):
        ``(g, psi, weights, atom)`` with ``psi = phi(sqrt(s) g)^2``, the Gaussian weights and the exact mass
        of ``{psi = 0}``."""
        root = math.sqrt(s)
        atom = 0.0
        gs, ws = [], []
        for a, b, kind in self._pieces(s):
            if vanishes(self.activation, root * a, root * b, kind):
                atom += float(special.ndtr(b) - special.ndtr(a))
                continue
            edges = np.linspace(a, b, max(2, math.ceil((b - a) / 0.75)) + 1)
            lo, hi = edges[:-1, None], edges[1:, None]
            g = 0.5 * (lo + hi) + 0.5 * (hi - lo) * GL16_X[None, :]
            gs.append(g.ravel())
            ws.append((0.5 * (hi - lo) * GL16_W[None, :] * np.exp(-0.5 * g * g)).ravel() / math.sqrt(2 * math.pi))
        g = np.concatenate(gs) if gs else np.zeros(0)
        w = np.concatenate(ws) if ws else np.zeros(0)
        return g, np.asarray(self.activation.phi(root * g), dtype=np.float64) ** 2, w, atom

    def window(self, s, eps):
        """``(nodes, P)``: :meth:`window_nodes` of ``s`` and the window ``[0, P)`` of the law of ``z`` given
        ``s``, with mass ``eps * 1e-2`` beyond it and 5 % to spare."""
        nodes = self.window_nodes(s)
        return nodes, self.right_end(*nodes, eps * 1e-2) * _SPARE

    def right_end(self, g, psi, w, atom, eps):
        """``P`` with ``P(z > P) <= eps`` (Chernoff, from the exact cumulant generating function of one unit)."""
        n = self.width
        top = float(psi.max()) if psi.size else 0.0
        mean = float(psi @ w)
        if top <= 0.0:
            return 1.0
        # psi growing like c g^2 caps theta below 1 / (2c): e^{theta psi - g^2 / 2} must stay integrable
        far = np.abs(g) > 3.0
        slope = float(np.max(psi[far] / (g[far] * g[far]))) if np.any(far) else 0.0
        cap = 0.4 / slope if slope > 1e-3 / top else math.inf
        thetas = np.geomspace(1e-3 / max(mean, 1e-300), min(cap, 1e4 * n / top), 80)
        expo = thetas[:, None] * psi[None, :]
        top_e = expo.max(axis=1, keepdims=True)
        log_mgf = np.log(np.exp(expo - top_e) @ w) + top_e[:, 0]
        log_mgf = np.logaddexp(log_mgf, math.log(atom)) if atom > 0 else log_mgf
        ends = (n * log_mgf - math.log(eps)) / thetas
        return float(np.min(ends))

    def singular_points(self, top):
        r"""Points ``z <= top`` where the law of ``z`` may be singular, whatever the variance: sums of at most
        ``N`` critical values of :math:`\phi^2` (:meth:`sigdist.activations.Activation.critical_values`), 0
        included, to roundoff (at most about 400 of them). Empty past width 16, where their order is high."""
        if self.width > SINGULAR_WIDTH:
            return np.zeros(0)
        return sums_of(self.activation.critical_values(top), self.width, top, _SINGULAR_MAX)

    def atom(self, s):
        """``P(z = 0 | s) = P(X = 0)^N``: the Gaussian mass of the pieces where ``phi`` vanishes."""
        root = math.sqrt(s)
        zero = sum(float(special.ndtr(b) - special.ndtr(a)) for a, b, kind in self._pieces(s)
                   if vanishes(self.activation, root * a, root * b, kind))
        return zero ** self.width

    def spacing(self, s, eps):
        """Log-grid spacing that resolves the law of ``log z`` given each variance in ``s``: the spacing that
        resolves ``log`` of a chi-square with ``N`` degrees (:meth:`Chi2Mixture.spacing_for`) narrowed by
        the ratio of the coefficients of variation (a saturating activation concentrates ``z``)."""
        n = self.width
        key = (n, float(eps))
        cache = _SPACING_CACHE
        if key not in cache:
            cache[key] = Chi2Mixture(Layer(n, 1.0, 0.0, "linear")).spacing_for(eps)
        m1, m2 = self.activation.squared_moments_many(np.atleast_1d(np.asarray(s, dtype=np.float64)))
        with np.errstate(invalid="ignore", divide="ignore"):
            cv = np.sqrt(np.maximum(n * (m2 - m1 * m1), 0.0)) / (n * m1)
        cv = np.where(np.isfinite(cv) & (cv > 0), cv, math.sqrt(2.0 / n))
        return cache[key] * np.minimum(1.0, cv / math.sqrt(2.0 / n))


_SPACING_CACHE = {}


class GroupSeries:
    r"""Fourier coefficients of the laws of ``z`` given a group of variances on one window ``[0, P)``.

    Attributes
    ----------
    coef : ndarray, shape (n_s, K + 1), complex
        :math:`\varphi_X(k\,\Delta t; s_i)^N - P(z = 0 \mid s_i)` (the continuous parts').
    period : float
    atoms : ndarray
        ``P(z = 0 | s_i)``.
    errors : ndarray
        Estimated CDF error of each node's series (truncation and quadrature; aliasing at most ``eps``).
    means : ndarray
        ``E[z | s_i]`` by the coefficients' own quadrature (it anchors the CDF series,
        :meth:`KernelSeries.cdf_continuous`).
    """

    __slots__ = ("coef", "period", "atoms", "errors", "means")

    def __init__(self, coef, period, atoms, errors, means):
        self.coef, self.period, self.atoms, self.errors, self.means = coef, period, atoms, errors, means


def group_series(kernel, s, eps):
    r"""The :class:`GroupSeries` of the variances ``s`` (best within a factor of a few of each other).

    One node set in ``h = \sqrt{s} g`` serves every ``s`` of the group: :math:`\phi(h)^2` is evaluated
    once, each variance brings its Gaussian weights, and the characteristic functions of all of them
    come from one batched transform. The window is the largest right end of the group (Chernoff at
    both ends), the frequency range the largest any node needs.
    """
    s = np.asarray(s, dtype=np.float64)
    n = kernel.width
    act = kernel.activation
    s_lo, s_hi = float(s.min()), float(s.max())
    root_hi = math.sqrt(s_hi)
    pieces = [(a * root_hi, b * root_hi, kind) for a, b, kind in act._pieces_in_g(root_hi)]
    ends, t_need = [], []
    for sv in ((s_lo,) if s_hi == s_lo else (s_lo, s_hi)):
        (_, psi0, w0, _), end = kernel.window(sv, eps)
        ends.append(end)
        # in units of psi's largest value: psi^2 underflows at a tiny variance (tanh at s = 1e-200)
        scale = float(psi0.max()) if psi0.size and psi0.max() > 0 else 1.0
        mean = float(psi0 @ w0) / scale
        var = max(float((psi0 / scale) ** 2 @ w0) - mean * mean, 1e-300)  # mean <= 1 in these units
        t_need.append(math.sqrt(2.0 * math.log(1.0 / eps) / (n * var)) * 1.5 / scale)
        # one unit's mass piled up at two values (0 and saturation: erf, tanh, sigmoid, sin) makes |phi_X(t)|
        # revive every 2 pi / (their distance): four revivals are seen before the decay is judged
        top = float(psi0[w0 > 1e-12 * w0.max()].max()) if psi0.size else 0.0
        if top > 0:
            t_need.append(8.0 * math.pi / top)
    period = max(ends)
    dt = 2.0 * math.pi / period
    cap = max(_MAX_TERMS, min(_MAX_TERMS_FEW, 1 << ((_GROUP_TERMS // s.size).bit_length() - 1)))
    k_max = int(min(cap, max(16, math.ceil(max(t_need) / dt))))
    while True:
        h, base, zeros = h_nodes(act, pieces, s_lo, s_hi, k_max * dt)
        root = np.sqrt(s)
        atoms = sum((special.ndtr(b / root) - special.ndtr(a / root) for a, b in zeros), np.zeros(s.size))
        psi = np.asarray(act.phi(h), dtype=np.float64) ** 2
        weights = gaussian_weights(h, base, s)
        unit = unit_transform(psi, weights, dt, k_max) + atoms[:, None]
        coef = unit ** n - (atoms ** n)[:, None]  # the continuous part's: the atom does not decay
        # truncation: for |c_k| ~ C k^-p the CDF series beyond K holds |c_K| / (pi p); p is read from the
        # decay between the second and the last quarter (at most N/2: an atom of X slows it to 1/2)
        mag = np.abs(coef)
        early = mag[:, k_max // 4: k_max // 2 + 1].max(axis=1)
        late = mag[:, (3 * k_max) // 4:].max(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where((late > 0) & (early > late), np.log2(early / late), 0.25)
        rate = np.clip(rate, 0.25, max(n / 2.0, 0.5))
        tails = late / (math.pi * rate)
        if np.all(tails <= eps) and k_max < cap:
            # a Gaussian-like start can hide a slow power tail (a singularity of small weight, such as
            # erf's saturation): probe the frequencies 2, 4 and 8 times further out
            tails = np.maximum(tails, _probe_tail(act, pieces, s, atoms, n, s_lo, s_hi, k_max * dt))
        if np.all(tails <= eps):
            break
        if k_max >= cap:
            # the bound assumes the last quarter's decay goes on; where it is slow (a power singularity
            # of low order) the CDF's change over the last octave of terms is the sharper estimate. An error
            # falling like K^-p leaves E_K = change / (2^p - 1) after the change over the last octave: more
            # than the change itself where p < 1 (gelu at width 5 and s = 20: p ~ 0.5, the error 1.9 times
            # the change)
            octave = _octave_change(coef, period) / np.minimum(1.0, np.exp2(rate) - 1.0)
            tails = np.minimum(tails, octave)
            break
        # the decay seen tells how far to go (at least twice as far)
        worst = int(np.argmax(tails / eps))
        grow = (tails[worst] / eps) ** (1.0 / max(float(rate[worst]), 0.5)) * 1.25
        k_max = int(min(cap, k_max * min(16.0, max(2.0, grow))))
    # quadrature: the top coefficient by 24-point rules on the same panels, far more accurate (the phase
    # is a polynomial's to roundoff there), so the difference is the 16-point rules' error
    hh, bb = finer_rule(h, base)
    w_fine = gaussian_weights(hh, bb, s)
    top = (w_fine * np.exp(1j * k_max * dt * np.asarray(act.phi(hh), dtype=np.float64) ** 2)[None, :]).sum(axis=1)
    # coefficient errors delta_k move the CDF by at most sum_k 2 delta_k / (pi k); they grow with the
    # phase k dt phi^2 (the rules' error at least linearly, as roundoff does), so the sum is at most
    # 2 delta_K / pi
    atoms_z = atoms ** n
    quad = np.abs((top + atoms) ** n - atoms_z - coef[:, -1]) * 2.0 / math.pi
    coef[:, 0] = 1.0 - atoms_z
    return GroupSeries(coef, period, atoms_z, eps * 1e-2 + tails + quad, n * (weights @ psi))


def _octave_change(coef, period):
    r"""Per row, :math:`\max_z |F_K(z) - F_{K/2}(z)|` of the termwise CDF series on ``4K`` equispaced
    points (one FFT): the change the last octave of terms made. An error falling like :math:`K^{-p}` is
    the change over :math:`2^p - 1`: within the change where ``p >= 1``, up to ``1 / (2^p - 1)`` times it
    where a power singularity of low order slows the decay (the caller divides)."""
    k_max = coef.shape[1] - 1
    m = 4 * k_max
    dt = 2.0 * math.pi / period
    k = np.arange(k_max // 2 + 1, k_max + 1)
    out = np.empty(coef.shape[0])
    for i, row in enumerate(coef):
        b = np.zeros(m, dtype=complex)
        b[k] = row[k] / (1j * k * dt)
        # F_K - F_{K/2} = (2 / P) Re sum_k b_k (1 - e^{-i k dt z}) at z = P j / m
        change = 2.0 * (b.sum().real - np.fft.fft(b).real) / period
        out[i] = float(np.max(np.abs(change)))
    return out


def _probe_tail(act, pieces, s, atoms, n, s_lo, s_hi, t_top):
    """What the CDF series holds beyond ``t_top``, from the coefficients at ``2, 4, 8 t_top``: each octave
    at most ``max |c| ln 2 / pi``, and past ``8 t_top`` a power tail fitted to the last octave."""
    h, base, _ = h_nodes(act, pieces, s_lo, s_hi, 8.0 * t_top)
    psi = np.asarray(act.phi(h), dtype=np.float64) ** 2
    weights = gaussian_weights(h, base, s)
    ts = t_top * np.array([2.0, 4.0, 8.0])
    mags = np.abs((weights @ np.exp(1j * np.outer(psi, ts)) + atoms[:, None]) ** n - (atoms ** n)[:, None])
    octaves = np.maximum(mags[:, :2], mags[:, 1:]).sum(axis=1) * math.log(2.0) / math.pi
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(mags[:, 2] > 0, np.log2(np.maximum(mags[:, 1], 1e-300) / mags[:, 2]), np.inf)
    beyond = mags[:, 2] / (math.pi * np.clip(p, 0.25, None))
    return octaves + mags[:, 0] * math.log(2.0) / math.pi + beyond


def _groups(s, ratio=2.0, size=32):
    """Index groups of the sorted variances, each within ``ratio`` of its smallest and at most ``size``
    long (a group holds ``size x K`` complex coefficients)."""
    order = np.argsort(s)
    groups, start = [], 0
    for i in range(1, order.size + 1):
        if i == order.size or s[order[i]] > ratio * s[order[start]] or i - start >= size:
            groups.append(order[start:i])
            start = i
    return groups


def _series_unless_narrow(kernel, s, eps, narrow):
    """The :class:`GroupSeries` of the variances ``s``, or None where :class:`NarrowGroup` takes them: where their
    series miss ``eps`` and real space applies, or where it applies and a group of smaller variance (``narrow``)
    went there already (the series of larger variance miss too: their attempt is skipped)."""
    s_max = float(np.max(s))
    if narrow and narrow_applies(kernel, np.array([kernel.atom(s_max)]), s_max):
        return None
    gs = group_series(kernel, s, eps)
    return None if np.any(gs.errors > eps) and narrow_applies(kernel, gs.atoms, s_max) else gs


def _narrow_group(kernel, s, weights, eps, negligible=0.0):
    """The :class:`NarrowGroup` of the variances ``s``, read up to the end of the window their series would have
    had: the larger Chernoff end (at ``eps``) of its smallest and largest variance."""
    end = max(kernel.window(v, eps)[1] for v in (float(np.min(s)), float(np.max(s)))) / _SPARE
    return NarrowGroup(kernel, s, weights, end, negligible=negligible)


def mixed_log_density(kernel, log_s, weights, eps, tail, spacing):
    r"""The law of ``z`` mixed over variances: :math:`q(u) = \sum_i w_i\, p_{\log z \mid s_i}(u)` on a log grid.

    Parameters
    ----------
    kernel : FourierKernel
    log_s, weights : ndarray
        ``log s_i`` of the nodes (the previous law's quadrature nodes mapped to variances; ``-inf`` for
        ``s = 0``, which sends its weight to the atom) and their weights. Nodes of variance below
        :data:`S_MIN` are left out: their weight is mass lost, in the law's error.
    eps : float
        CDF accuracy of the mixture: the conditional laws' errors, and the grid's resolution error.
    tail : float
        Probability that may be left off the grid in each tail.
    spacing : float
        Largest spacing of the output grid (refined until the grid resolves the density).

    Returns
    -------
    grid, q, atom, error, gap, series
        The output grid, the density of ``log z`` on it, ``P(z = 0)``, the CDF error of the
        conditional laws summed over the nodes, the grid's resolution error (its CDF between nodes
        against the grid of half the spacing; 0 when within ``eps``), and the exact evaluators of the
        mixture (a :class:`SeriesMixture`, or None past ``2^23`` kept coefficients).

    Notes
    -----
    Nodes whose variances lie within a factor 2 share one window and one frequency grid, so their
    mixture is one Fourier series (the weighted sum of their coefficients), evaluated once.
    """
    keep = (weights > 0) & ~((log_s > -np.inf) & (log_s < math.log(S_MIN)))
    log_s, weights = log_s[keep], weights[keep]
    zero = np.isneginf(log_s)
    atom = float(weights[zero].sum())
    log_s, weights = log_s[~zero], weights[~zero]
    if weights.size == 0:
        return None, None, atom, 0.0, 0.0, None
    s = np.exp(log_s)
    total = float(weights.sum())
    parts, error = [], 0.0  # (evaluator of the part's density of log z, its left-tail quantile, log of its end)
    exact, kept = [], 0  # the parts' CDF evaluators and their weights; coefficients kept
    if kernel.width == 1:
        for sv, w in zip(s, weights):
            c = OneUnit(kernel.activation, sv)
            atom += w * c.atom
            level = min(0.25, tail * total / (w * s.size))
            parts.append((lambda u, c=c, w=w: w * c.log_density(u), c.quantile_u(level), math.log(c.period)))
            exact.append((c, w))
    else:
        groups = _groups(s)
        narrow = False  # once a group's series miss their budget, so do those of larger variance
        i = 0
        while i < len(groups):
            idx = groups[i]
            share = float(weights[idx].sum()) / total
            g_eps = min(1e-3, eps / (share * len(groups)))
            w = weights[idx]
            gs = _series_unless_narrow(kernel, s[idx], g_eps, narrow)
            if gs is None and not narrow:
                # real space from here on, in groups by ratio alone (at most 13 laws whatever its size; series
                # groups stop at 32 members): this index is read again, with its new group
                rest = np.concatenate(groups[i:])
                groups = groups[:i] + [rest[j] for j in _groups(s[rest], size=rest.size)]
                narrow = True
                continue
            narrow = gs is None
            i += 1
            if narrow:
                group = _narrow_group(kernel, s[idx], w, g_eps, negligible=1e-3 * eps / len(groups))
                # and the window's aliasing, and the atom (below 1e-18) the group leaves out of its parts
                error += group.error + float(w.sum()) * (g_eps * 1e-2 + 1e-18)
                exact.append((group, 1.0))
                level = min(0.25, tail / (share * len(groups)))
                parts.append((group.log_density, group.quantile_u(level), math.log(group.end)))
                continue
            atom += float(w @ gs.atoms)
            error += float(w @ gs.errors)
            mass = float(w.sum() - w @ gs.atoms)
            # the part's mass stands where a law's 1 - atom does: its quantiles are of the part
            series = KernelSeries(w @ gs.coef, gs.period, 1.0 - mass, float(w @ gs.means), gs.period / _SPARE)
            exact.append((series, 1.0))
            kept += series.coef.size
            level = min(0.25, tail / (share * len(groups)))
            parts.append((series.log_density, series.quantile_u(level) if mass > 0 else math.log(series.end),
                          math.log(series.end)))
    h = float(min(spacing, np.min(kernel.spacing(s, eps))))
    lo, hi = min(p[1] for p in parts), max(p[2] for p in parts)

    def sample(u):
        q = np.zeros(u.size)
        for density, a, b in parts:
            band = (u >= a - 4 * h) & (u <= b)
            if np.any(band):
                q[band] += density(u[band])
        return q

    grid = LogGrid(lo, h, max(int(math.ceil((hi - lo) / h)) + 1, 8))
    q = sample(grid.points)
    while True:
        # the grid of half the spacing shares every other node: its CDF at the new nodes, against the
        # coarse grid's interpolant there, tells how well the coarse grid resolves the density (the
        # spectral estimate alone misses power singularities, erf's saturation among them)
        fine = LogGrid(grid.start, 0.5 * grid.spacing, 2 * grid.size - 1)
        mid = fine.points[1::2]
        q_fine = np.empty(fine.size)
        q_fine[0::2], q_fine[1::2] = q, sample(mid)
        coarse_cdf, fine_cdf = LogGridDensity(grid, q).cdf_between_nodes(), LogGridDensity(fine, q_fine).cdf_at_nodes()
        gap = float(np.max(np.abs(coarse_cdf - fine_cdf[1::2])))
        grid, q = fine, q_fine
        # past 2^19 points (gelu's left end at large variance) the gap is carried instead (the check is FFTs; the
        # cap was 8192 when it summed a series per point)
        if gap <= eps or grid.size > 1 << 19:
            top = math.exp(grid.end) if grid.end < 700.0 else math.inf  # math.exp raises past log z ~ 709
            mixture = SeriesMixture(exact, error, kernel.singular_points(top)) if kept <= _MAX_KEPT else None
            return grid, q, atom, error, (gap if gap > eps else 0.0), mixture
        h *= 0.5


def conditional_columns(kernel, s, points, eps):
    """Density of ``log z`` at ``points`` given each variance in ``s`` (one column each; 0 for ``s = 0``). A group
    whose series miss ``eps`` reads the real-space laws where they apply; elsewhere it warns with its error."""
    s = np.asarray(s, dtype=np.float64)
    out = np.zeros((np.size(points), s.size))
    pos = np.nonzero(s > 0)[0]
    if kernel.width == 1:
        for i in pos:
            out[:, i] = OneUnit(kernel.activation, s[i]).log_density(points)
        return out
    worst, narrow = 0.0, False
    for idx in _groups(s[pos]):
        sg = s[pos][idx]
        gs = _series_unless_narrow(kernel, sg, eps, narrow)
        narrow = gs is None
        if narrow:
            group = _narrow_group(kernel, sg, np.ones(sg.size), eps)
            out[:, pos[idx]], err = group.members("log_density", np.asarray(points, float)), group.member_error
        else:
            out[:, pos[idx]] = np.stack([KernelSeries(c, gs.period, 0.0).log_density(points) for c in gs.coef], 1)
            err = float(gs.errors.max())
        worst = max(worst, err)
    if worst > eps:
        warnings.warn(f"the conditional laws of z given the variance reach a CDF error of {worst:.2g} > {eps:.2g} "
                      f"(series; real space takes widths <= {SINGULAR_WIDTH} without an atom)", SigdistWarning, 3)
    return out
