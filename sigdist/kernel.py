r"""The transition kernel :math:`k_l(y, z)` of the squared signal norm (Prop. 1, eq. 7).

Given ``|x^(l-1)|^2 = y`` the pre-activations of layer ``l`` are i.i.d.
:math:`N(0, s)` with :math:`s = \sigma_w^2 y + \sigma_b^2` (Prop. 1; the printed
variance :math:`\sigma_w^2 y^2 + \sigma_b^2` is a typo, see docs/errata.md), so

.. math:: z = |x^{(l)}|^2 = \sum_{i=1}^{N_l} \phi(h_i)^2 = s\,S,

with ``S`` independent of ``y`` for positively homogeneous ``phi``. For relu,
:math:`S = \chi^2_K`, :math:`K \sim \mathrm{Bin}(N_l, 1/2)`, which is eq. 7:

.. math::
    k_l(y, z) = 2^{-N_l}\,\delta_0(z) + \sum_{k=1}^{N_l} \binom{N_l}{k} 2^{-N_l}
                \frac{1}{s}\, p_{\chi^2_k}(z / s).

Linear and abs activations have :math:`S = \chi^2_{N_l}`. Leaky relu with slope ``a`` has
:math:`S = \chi^2_K + a^2 \chi^2_{N_l - K}`, which :mod:`sigdist.leaky` writes as a positive scale
mixture :math:`\sum_j W_j R_j \chi^2_{N_l}` (slope 0 and :math:`\pm 1` are relu's and linear's
mixtures exactly). Everything here is
computed in log space (binomial weights, Gamma functions, ``log s``), so it is
finite and accurate for ``N_l`` up to 10^4 and ``y`` over 1e-300..1e300.

Every kernel function takes the layer first, then the conditioning squared norm ``y`` and
the point ``z`` (``kernel_pdf(layer, y, z)``); ``y`` and ``z`` broadcast against each other.

The functions named ``log_s_*`` describe the law of ``log S`` (conditional on
``S > 0`` being part of a defective law of total mass ``1 - P(S = 0)``), which is
what the Mellin-convolution operator of :mod:`sigdist.operator` samples.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special

from ._numba import njit
from .leaky import leaky_terms
from .network import Layer, check_layer

__all__ = [
    "kernel_atom",
    "kernel_pdf",
    "kernel_logpdf",
    "kernel_cdf",
    "kernel_sf",
    "Chi2Mixture",
]

_LOG2 = math.log(2.0)
# Terms of a chi2 mixture whose weight is below exp(-80) ~ 1.8e-35 of the largest are dropped.
_WEIGHT_CUTOFF = 80.0


class Chi2Mixture:
    r"""The law of ``S`` as a positive mixture of scaled chi-squares, :math:`S = \sum_j w_j c_j \chi^2_{k_j}`.

    relu: :math:`c_j = 1`, :math:`k_j = K \sim \mathrm{Bin}(N, 1/2)` (eq. 7); linear and abs: one term
    :math:`\chi^2_N`; leaky relu with slope ``a`` (:math:`a^2 \ne 0, 1`): :math:`k_j = N` and the scales
    :math:`c_j = R_j \in [a^2, 1]` of :mod:`sigdist.leaky` (slope 0 is relu's mixture, slope 1 linear's).

    Attributes
    ----------
    atom : float
        ``P(S = 0) = P(K = 0)``.
    k : ndarray of int
        Degrees of freedom of the kept terms (weight within ``exp(-cutoff)`` of the largest;
        the kernel functions keep them all, the operators drop what cannot carry mass).
    log_weights : ndarray
        ``log w_j`` (``log P(K = k)`` for relu).
    log_scale : ndarray
        ``log c_j`` (0 but for leaky relu, sorted increasing there).
    scaled : bool
        Whether some ``c_j != 1`` (then every ``k_j = N``).
    dropped : float
        Total probability of the dropped ``k >= 1`` (below 1e-30; counted as lost mass).
    """

    def __init__(self, layer: Layer, cutoff: float = _WEIGHT_CUTOFF):
        check_layer(layer)
        act = layer.activation
        self.width = layer.width
        if act.chi2_kind == "leaky":
            # S = sum_j W_j R_j chi2_N (sigdist.leaky); the slope a = -phi(-1) of the built-in leaky relu
            slope = float(np.asarray(act(np.array([-1.0])))[0])
            log_w, log_scale, self.dropped = leaky_terms(layer.width, slope, cutoff)
            self.atom = 0.0
            self.k = np.full(log_w.size, layer.width)
            self.log_weights = log_w
            self.log_scale = log_scale
        else:
            logw_all = act.chi2_log_weights(layer.width)
            if logw_all is None:
                raise ValueError(
                    f"activation {act.name!r} has no exact chi2-mixture law; "
                    "use the lattice route (method='lattice')"
                )
            # P(K = 0) exactly: 2^-N for relu (0 once it is below the smallest subnormal), 0 for K = N
            self.atom = math.ldexp(1.0, -layer.width) if act.chi2_kind == "binomial" else 0.0
            k = np.arange(1, layer.width + 1)
            logw = logw_all[1:]
            keep = np.isfinite(logw) & (logw >= logw.max() - cutoff)
            self.k = k[keep]  # consecutive: the binomial weights are log-concave
            self.log_weights = logw[keep]
            self.dropped = float(np.sum(np.exp(logw[~keep]))) if np.any(~keep) else 0.0
            self.log_scale = np.zeros(self.k.size)
        # a scale per term (leaky relu; one degree N) or consecutive degrees at scale 1 (relu, linear, abs)
        self.scaled = bool(np.any(self.log_scale != 0.0))
        half = 0.5 * self.k
        # log of the weight times the chi2_k normalisation 1 / (2^{k/2} Gamma(k/2))
        self._log_coef = self.log_weights - half * _LOG2 - special.gammaln(half)
        if self.scaled:
            # prefix and suffix maxima of the coefficients: the bounds that stop the scaled sums' walks
            self._coef_left = np.maximum.accumulate(self._log_coef)
            self._coef_right = np.maximum.accumulate(self._log_coef[::-1])[::-1].copy()

    # -- log S ------------------------------------------------------------------------------
    def log_density(self, x):
        """Density of ``log S`` at ``x`` (defective: integrates to ``1 - atom``)."""
        x = np.asarray(x, dtype=np.float64)
        if self.scaled:
            out = _scaled_density(x.ravel(), self._log_coef, 0.5 * self.width, self.log_scale,
                                  self._coef_left, self._coef_right)
            return out.reshape(x.shape)
        return _log_s_density(x.ravel(), self._log_coef, self.k.astype(np.float64)).reshape(x.shape)

    def log_log_density(self, x):
        """``log`` of the density of ``log S`` at ``x``, wholly in logs (finite where the density underflows)."""
        x = np.asarray(x, dtype=np.float64)[..., None]
        y = x - self.log_scale
        with np.errstate(over="ignore"):
            terms = self._log_coef + 0.5 * self.k * y - 0.5 * np.exp(y)
        return special.logsumexp(terms, axis=-1)

    def dense_apply(self, w0, h, n_out, g, hq, x_lo, x_hi):
        """``out_j = sum_i hq_i p_{log S}(w0 + j h - g_i)`` over the band ``x_lo <= w_j - g_i <= x_hi``
        (the log-dense route; for a scaled mixture only: consecutive degrees have their own walk)."""
        return _dense_apply_scaled(w0, h, n_out, g, hq, self._log_coef, 0.5 * self.width, self.log_scale,
                                   self._coef_left, self._coef_right, x_lo, x_hi)

    def log_real_moment(self, r):
        r"""``log E[S^r; S > 0]`` for real ``r > -min k / 2``: :math:`\sum_j w_j c_j^r 2^r \Gamma(k_j/2 + r) / \Gamma(k_j/2)`."""
        half = 0.5 * self.k
        return float(special.logsumexp(self.log_weights + r * (self.log_scale + _LOG2)
                                       + special.gammaln(half + r) - special.gammaln(half)))

    def cdf_positive(self, t):
        """``P(0 < S <= t)``."""
        x = self._half_ratio(t)
        return np.sum(np.exp(self.log_weights) * special.gammainc(0.5 * self.k, x), axis=-1)

    def _half_ratio(self, t):
        """``t / (2 c_j)`` for each term (broadcast on a new last axis)."""
        t = np.asarray(t, dtype=np.float64)[..., None]
        if not self.scaled:
            return 0.5 * t
        with np.errstate(over="ignore"):
            return 0.5 * t * np.exp(-self.log_scale)

    def sf(self, t):
        """``P(S > t)``."""
        x = self._half_ratio(t)
        return np.sum(np.exp(self.log_weights) * special.gammaincc(0.5 * self.k, x), axis=-1)

    def sf_second_moment(self, t):
        """``E[S^2 1{S > t}] / E[S^2]``, using ``E[X^2 1{X > t}] = k (k + 2) P(chi2_{k+4} > t)``
        for each term ``X = chi2_k`` (at ``t / c_j``, weighted by ``c_j^2``)."""
        x = self._half_ratio(t)
        weights = np.exp(self.log_weights + 2.0 * self.log_scale) * self.k * (self.k + 2.0)
        return np.sum(weights * special.gammaincc(0.5 * self.k + 2.0, x), axis=-1) / weights.sum()

    def log_range(self, tail):
        """``(x_lo, x_hi)`` with ``P(0 < S < e^x_lo) <= tail`` and both ``P(S > e^x_hi)`` and the
        share of ``E[S^2]`` from ``S > e^x_hi`` at most ``tail`` (so moments up to 2 keep their accuracy)."""
        mean_log = float(np.sum(np.exp(self.log_weights) * (special.digamma(0.5 * self.k) + _LOG2 + self.log_scale)))
        log_tail = math.log(tail)
        lo_f = lambda x: math.log(max(float(self.cdf_positive(math.exp(x))), 1e-320)) - log_tail  # noqa: E731
        hi_f = lambda x: math.log(max(float(self.sf(math.exp(x))), float(self.sf_second_moment(math.exp(x))),  # noqa
                                      1e-320)) - log_tail
        a = mean_log - 1.0
        while lo_f(a) > 0:
            a -= 2.0 * (mean_log - a)
        b = mean_log + 0.5
        while hi_f(b) > 0:
            b += 2.0 * (b - mean_log)
        x_lo = optimize.brentq(lo_f, a, mean_log, xtol=1e-6) if lo_f(mean_log) > 0 else mean_log
        x_hi = optimize.brentq(hi_f, mean_log, b, xtol=1e-6) if hi_f(mean_log) > 0 else mean_log
        return x_lo, x_hi

    def log_char_bound(self, t):
        r"""Upper bound :math:`\sum_j w_j |\Gamma(k_j/2 + it)| / \Gamma(k_j/2) \ge |E[S^{it}]|`
        (the scales only turn phases: :math:`|c_j^{it}| = 1`)."""
        half = 0.5 * self.k
        logs = self.log_weights + special.loggamma(half + 1j * t).real - special.gammaln(half)
        top = logs.max()
        return float(np.exp(top) * np.sum(np.exp(logs - top)))

    def spacing_for(self, eps):
        r"""Largest log-grid spacing ``h`` with :math:`|E[S^{i\pi/h}]| \le \varepsilon`.

        A grid of spacing ``h`` resolves frequencies up to the Nyquist frequency
        ``pi / h``: below ``eps`` there, the samples of the density of ``log S`` fix
        its trigonometric interpolant to ``eps``, and the trapezoid rule for the
        convolution integral, whose error is governed by the spectrum at the
        sampling frequency ``2 pi / h``, is far more accurate still.
        """
        f = lambda t: math.log(self.log_char_bound(t)) - math.log(eps)  # noqa: E731
        b = 1.0
        while f(b) > 0:
            b *= 2.0
        t_star = optimize.brentq(f, 0.0, b, xtol=1e-6) if f(0.0) > 0 else b
        return math.pi / t_star


@njit
def _log_s_density(x, log_coef, k):
    # p_{log S}(x) = exp(-e^x / 2) * sum_j exp(log_coef_j + k_j x / 2), with k_j consecutive integers.
    # The terms are log-concave in j: start at the largest (found with additions only), walk outwards
    # multiplying by the ratio of neighbours, and stop once a term is below 1e-18 of the sum.
    n = k.shape[0]
    ratio = np.exp(np.diff(log_coef))  # exp(c_{j+1} - c_j)
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        xi = x[i]
        best, m = 0, -np.inf
        for j in range(n):
            t = log_coef[j] + 0.5 * k[j] * xi
            if t > m:
                m, best = t, j
        acc = walk_from_largest(ratio, math.exp(0.5 * xi), best)
        e = math.exp(xi) if xi < 709.0 else np.inf
        out[i] = math.exp(m + math.log(acc) - 0.5 * e)
    return out


@njit
def walk_from_largest(ratio, half, best):
    """``sum_j exp(c_j + k_j x / 2) / exp(c_best + k_best x / 2)`` for consecutive ``k_j``: neighbours differ
    by ``ratio_j * e^{x/2}``; walk out from the largest term until the terms are below 1e-18 of the sum."""
    n = ratio.shape[0] + 1
    acc = 1.0
    term = 1.0
    for j in range(best, n - 1):
        term *= ratio[j] * half
        acc += term
        if term < 1e-18 * acc:
            break
    term = 1.0
    for j in range(best - 1, -1, -1):
        term /= ratio[j] * half
        acc += term
        if term < 1e-18 * acc:
            break
    return acc


@njit
def _scaled_log_sum(x, c, alpha, beta, half, ls, cl, cr):
    # log p_{log S}(x) = log sum_j exp(c_j + phi(x - ls_j)), phi(y) = half y - e^y / 2 concave with its peak
    # at y* = log(2 half); ls_j increasing; each term is exp(alpha_j + half x - e^x beta_j) with
    # alpha_j = c_j - half ls_j, beta_j = e^{-ls_j} / 2. Start where ls_j first reaches x - y*; to the right
    # every y_j <= y*, so phi(y_j) falls as j grows and the rest is at most (count) * exp(max c + phi(y_j));
    # to the left y_j >= y* and the same holds mirrored. Walk until that bound is below 1e-18 of the sum.
    n = ls.shape[0]
    start = np.searchsorted(ls, x - math.log(2.0 * half))
    ex = math.exp(x) if x < 709.0 else np.inf
    m = -np.inf
    acc = 0.0
    for j in range(start, n):
        t = alpha[j] - ex * beta[j]
        if t > m:
            acc = acc * math.exp(m - t) + 1.0
            m = t
        else:
            acc += math.exp(t - m)
        if j + 1 < n and (n - 1 - j) * math.exp(cr[j + 1] - c[j] + t - m) < 1e-18 * acc:
            break
    for j in range(start - 1, -1, -1):
        t = alpha[j] - ex * beta[j]
        if t > m:
            acc = acc * math.exp(m - t) + 1.0
            m = t
        elif t > -np.inf:
            acc += math.exp(t - m)
        if j > 0 and j * math.exp(cl[j - 1] - c[j] + t - m) < 1e-18 * acc:
            break
    if m == -np.inf:
        return -np.inf
    return m + half * x + math.log(acc)


@njit
def _scaled_density(x, log_coef, half, ls, cl, cr):
    out = np.empty(x.shape[0])
    alpha, beta = log_coef - half * ls, 0.5 * np.exp(-ls)
    for i in range(x.shape[0]):
        out[i] = math.exp(_scaled_log_sum(x[i], log_coef, alpha, beta, half, ls, cl, cr))
    return out


@njit
def _dense_apply_scaled(w0, h, n_out, g, hq, log_coef, half, ls, cl, cr, x_lo, x_hi):
    # out_j = sum_i hq_i p_{log S}(w0 + j h - g_i) over the band where the kernel carries mass
    out = np.zeros(n_out)
    alpha, beta = log_coef - half * ls, 0.5 * np.exp(-ls)
    for i in range(g.shape[0]):
        if hq[i] == 0.0:
            continue
        j0 = max(0, int(math.ceil((g[i] + x_lo - w0) / h)))
        j1 = min(n_out - 1, int(math.floor((g[i] + x_hi - w0) / h)))
        for j in range(j0, j1 + 1):
            v = _scaled_log_sum(w0 + j * h - g[i], log_coef, alpha, beta, half, ls, cl, cr)
            if v > -745.0:
                out[j] += hq[i] * math.exp(v)
    return out


# -- the kernel k(y, z) as a function of two arguments -------------------------------------------

def _log_variance(layer: Layer, y):
    """``log(sigma_w2 * y + sigma_b2)`` without overflow for ``y`` up to 1e300."""
    y = _as_floats(y, "y")
    if np.any(y < 0) or not np.all(np.isfinite(y)):
        raise ValueError("y must be finite and >= 0 (a squared norm)")
    with np.errstate(divide="ignore"):
        log_w = math.log(layer.sigma_w2) + np.log(y)
    if layer.sigma_b2 == 0.0:
        return log_w
    return np.logaddexp(log_w, math.log(layer.sigma_b2))


def _ratio(layer: Layer, y, z):
    """``(t, log_s)`` with ``t = z / s`` computed directly where ``s`` is a normal float
    (so ``t`` carries one rounding, not the ``|log z|`` amplification of ``exp(log z - log s)``)."""
    log_s = _log_variance(layer, y)
    z = _check_z(z)
    log_s, z = np.broadcast_arrays(log_s, z)
    with np.errstate(over="ignore", under="ignore"):
        s = layer.sigma_w2 * np.broadcast_to(_as_floats(y, "y"), z.shape) + layer.sigma_b2
    direct = np.isfinite(s) & (s >= np.finfo(np.float64).tiny)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        t = np.where(direct, np.maximum(z, 0.0) / np.where(direct, s, 1.0),
                     np.exp(np.log(np.maximum(z, 0.0)) - np.where(np.isneginf(log_s), 0.0, log_s)))
    t = np.where(np.isneginf(log_s), np.where(z > 0, np.inf, 0.0), t)
    return t, log_s, z


def _as_floats(values, name):
    """``values`` as a float64 array; None, strings and other non-numbers are refused by name."""
    if values is None or isinstance(values, (str, bytes)):
        raise ValueError(f"{name} must be a number or an array of numbers, got {values!r}")
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or an array of numbers, got {type(values).__name__}") from None


def _check_z(z):
    z = _as_floats(z, "z")
    if np.any(np.isnan(z)):
        raise ValueError("z must not contain NaN")
    return z


def kernel_atom(layer: Layer, y):
    """``P(z = 0 | y)``: ``2^{-N_l}`` for relu when ``s > 0`` (1 when ``s = 0``)."""
    mix = Chi2Mixture(layer, cutoff=math.inf)
    log_s = _log_variance(layer, y)
    return np.where(np.isneginf(log_s), 1.0, mix.atom)


def kernel_logpdf(layer: Layer, y, z):
    r"""Log of the continuous part of :math:`k_l(y, z)` (eq. 7), for ``z > 0``.

    .. math:: \log k_l(y, z) = -\log s + \log \sum_{k \ge 1} w_k\, p_{\chi^2_k}(z / s)

    computed as a log-sum-exp over ``k``. Returns ``-inf`` for ``z <= 0``.
    """
    mix = Chi2Mixture(layer, cutoff=math.inf)
    t, log_s, z = _ratio(layer, y, z)
    shape = z.shape
    t, log_s, z = t.ravel(), log_s.ravel(), z.ravel()
    out = np.full(z.shape, -np.inf)
    ok = np.nonzero((z > 0) & np.isfinite(log_s))[0]
    if ok.size:
        with np.errstate(divide="ignore"):
            x = np.where((t[ok] > 0) & np.isfinite(t[ok]), np.log(t[ok]), np.log(z[ok]) - log_s[ok])  # log(z/s)
        # density of log S at x, divided by z (change of variables back to z)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[ok] = np.log(mix.log_density(x)) - np.log(z[ok])
        out[ok] = np.where(np.isinf(z[ok]), -np.inf, out[ok])
        # the density underflows far in the tails: redo those points wholly in logs
        bad = ok[~np.isfinite(out[ok]) & np.isfinite(z[ok])]
        if bad.size:
            xb = np.log(z[bad]) - log_s[bad]
            out[bad] = mix.log_log_density(xb) - np.log(z[bad])
    return out.reshape(shape)


def kernel_pdf(layer: Layer, y, z):
    """Continuous part of :math:`k_l(y, z)` (eq. 7): density of ``z`` given ``y`` for ``z > 0``."""
    return np.exp(kernel_logpdf(layer, y, z))


def kernel_cdf(layer: Layer, y, z):
    r""":math:`P(z_l \le z \mid y)`, atom included: :math:`2^{-N} + \sum_k w_k P(k/2, z/(2s))`.

    ``P`` is the regularised lower incomplete gamma function.
    """
    mix = Chi2Mixture(layer, cutoff=math.inf)
    t, log_s, z = _ratio(layer, y, z)
    out = mix.atom + mix.cdf_positive(t)
    out = np.where(np.isneginf(log_s), 1.0, out)  # s = 0: z = 0 surely
    return np.where(z < 0, 0.0, out)


def kernel_sf(layer: Layer, y, z):
    r""":math:`P(z_l > z \mid y) = \sum_k w_k Q(k/2, z/(2s))` (accurate far in the right tail)."""
    mix = Chi2Mixture(layer, cutoff=math.inf)
    t, log_s, z = _ratio(layer, y, z)
    out = mix.sf(t)
    out = np.where(np.isneginf(log_s), 0.0, out)
    return np.where(z < 0, 1.0, out)
