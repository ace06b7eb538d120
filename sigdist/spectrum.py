r"""Spectrum of the transition operator for :math:`\sigma_b = 0` (Prop. 4, eq. 8) and what it implies.

For :math:`\sigma_b = 0` a layer maps :math:`y` to :math:`z = \sigma_w^2 y S` with
``S`` independent of ``y`` (``S = chi2_K``, ``K ~ Bin(N, 1/2)`` for relu). Acting on
densities, :math:`(T p)(z) = \int k(y, z) p(y)\,dy`; for :math:`p(y) = y^m` the
substitution :math:`t = z / (\sigma_w^2 y)` gives

.. math::
    (T f_m)(z) = z^m\, \sigma_w^{-2(m+1)}\, E[S^{-(m+1)}; S > 0]
    \quad\Longrightarrow\quad
    \lambda_m = E\big[(\sigma_w^2 S)^{-(m+1)}; S > 0\big]
    = \sigma_w^{-2(m+1)} \sum_{k \ge 1} w_k\, 2^{-(m+1)} \frac{\Gamma(k/2 - m - 1)}{\Gamma(k/2)},

finite exactly when :math:`k_{min}/2 - m - 1 > 0` for the smallest ``k`` with
:math:`w_k > 0` (``m < -1/2`` for relu: the ``k = 1`` term diverges at ``m = -1/2``).
The printed eq. 8 has :math:`2^{+(m+1)}` for :math:`2^{-(m+1)}` (docs/errata.md).

With :math:`a = -(m+1)`, :math:`\lambda = E[X^a]` for :math:`X = \sigma_w^2 S` on
``S > 0``: :math:`\log\lambda` is convex in ``m``, so :math:`\{m: \lambda_m < 1\}`
is an interval. For He (:math:`\sigma_w^2 N / 2 = 1`) its lower end is exactly
:math:`m = -2` (:math:`\lambda_{-2} = \sigma_w^2 E[S] = 1`, eq. 5) for every width.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special

from .kernel import Chi2Mixture
from .network import Layer, Network, require_gaussian_iid

__all__ = ["mellin_eigenvalue", "log_mellin_eigenvalue", "mellin_domain", "critical_window", "tail_index"]


def _layers_of(obj):
    if isinstance(obj, Layer):
        return [obj]
    if isinstance(obj, Network):
        return list(obj.layers)
    raise ValueError(f"expected a sigdist.Layer or Network, got {type(obj).__name__}")


def _mixture(layer: Layer):
    require_gaussian_iid(layer)
    if layer.sigma_b2 != 0.0:
        raise ValueError(f"the Mellin eigenfunctions y^m exist only for sigma_b2 = 0; got sigma_b2={layer.sigma_b2}")
    if layer.activation.chi2_kind is None:
        raise ValueError(f"exact eigenvalues need relu, linear or abs; got activation {layer.activation.name!r}")
    return Chi2Mixture(layer, cutoff=math.inf)


def _log_gamma_ratio(half, a):
    """``log(Gamma(half + a) / Gamma(half))``: from ``poch`` (one rounding) unless it over/underflows."""
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        ratio = special.poch(half, a)
        out = np.log(ratio)
    bad = ~np.isfinite(out) | (ratio <= 0)
    if np.any(bad):
        out = np.where(bad, special.gammaln(half + a) - special.gammaln(half), out)
    return out


def mellin_domain(obj) -> float:
    """Supremum of the ``m`` where :math:`\\lambda_m` is finite: ``min_l k_min / 2 - 1`` (-1/2 for relu)."""
    return min(0.5 * float(_mixture(layer).k.min()) - 1.0 for layer in _layers_of(obj))


def log_mellin_eigenvalue(m, obj):
    r""":math:`\log \lambda_m` of a layer, or of a network (the eigenvalues of :math:`\prod_l T_l` multiply).

    Parameters
    ----------
    m : array_like of float
        Exponents, each below :func:`mellin_domain` (``-1/2`` for relu).
    obj : Layer or Network
        Layers with :math:`\sigma_b = 0` and relu, linear or abs activations.

    Raises
    ------
    ValueError
        For non-real or non-finite ``m``, ``m`` outside the domain (the message says
        which term diverges), a layer with :math:`\sigma_b > 0` or another activation.
    """
    m_arr = np.asarray(m)
    if np.iscomplexobj(m_arr) or not np.issubdtype(m_arr.dtype, np.number):
        raise ValueError(f"m must be real, got {m!r}")
    m_arr = m_arr.astype(np.float64)
    if not np.all(np.isfinite(m_arr)):
        raise ValueError("m must be finite")
    total = np.zeros(m_arr.shape)
    for layer in _layers_of(obj):
        mix = _mixture(layer)
        bound = 0.5 * float(mix.k.min()) - 1.0
        if np.any(m_arr >= bound):
            raise ValueError(
                f"m must be < {bound:g} for this layer: the k = {int(mix.k.min())} term "
                f"Gamma(k/2 - m - 1) diverges at m = {bound:g} (got max m = {float(m_arr.max()):g})")
        a = -(m_arr[..., None] + 1.0)  # moment order of X = sigma_w2 S
        logs = mix.log_weights + a * math.log(2.0) + _log_gamma_ratio(0.5 * mix.k, a)
        total += a[..., 0] * math.log(layer.sigma_w2) + special.logsumexp(logs, axis=-1)
    return total if total.ndim else float(total)


def mellin_eigenvalue(m, obj):
    r"""Eigenvalue :math:`\lambda_m` of :math:`T_l f_m = \lambda_m f_m`, :math:`f_m(y) = y^m` (eq. 8, corrected).

    Returns ``inf`` where :math:`\lambda_m` overflows a float64 (use
    :func:`log_mellin_eigenvalue` there). See the module docstring for the derivation.

    Examples
    --------
    >>> from sigdist import Layer
    >>> from sigdist.spectrum import mellin_eigenvalue
    >>> layer = Layer(200, 2 / 200)
    >>> round(mellin_eigenvalue(-2.0, layer), 12), mellin_eigenvalue(-1.0, layer) == 1 - 2.0**-200
    (1.0, True)
    """
    with np.errstate(over="ignore"):
        out = np.exp(log_mellin_eigenvalue(m, obj))
    return out if np.ndim(out) else float(out)


def critical_window(obj):
    r"""The interval of ``m`` where :math:`\lambda_m < 1`: ``(m_crit, m_upper)``.

    :math:`\log\lambda_m` is convex, tends to ``+inf`` at both ends of its domain
    (``-inf`` and :func:`mellin_domain`), and :math:`\lambda_{-1} = P(S > 0)^L < 1`
    for relu, so the window is a non-empty interval around ``-1``. Its ends are the
    two roots of :math:`\lambda_m = 1`. For He layers ``m_crit = -2`` exactly; the
    upper end lies just above ``-1`` (the paper says the window ends at ``-1``).

    Returns
    -------
    (m_crit, m_upper) : tuple of float
        ``m_crit = m_upper = -1`` when no ``m`` has :math:`\lambda_m < 1` (linear layers at
        the critical variance, where :math:`\lambda_{-1} = 1` is the minimum).
    """
    upper_bound = mellin_domain(obj)
    f = lambda m: log_mellin_eigenvalue(m, obj)  # noqa: E731
    # the minimum of the convex log-eigenvalue
    res = optimize.minimize_scalar(f, bounds=(-50.0, upper_bound - 1e-12), method="bounded",
                                   options={"xatol": 1e-13})
    m_min = float(res.x)
    lo_side = -1.0 if f(-1.0) < 0 else m_min
    if f(lo_side) >= 0:
        return -1.0, -1.0
    a = lo_side - 1.0
    while f(a) < 0:
        a = lo_side - 2.0 * (lo_side - a)
    m_crit = optimize.brentq(f, a, lo_side, xtol=1e-14, rtol=1e-15)
    b = upper_bound - 1e-15
    step = 1e-3
    while f(upper_bound - step) < 0 and step > 1e-15:
        step *= 0.1
    m_upper = optimize.brentq(f, lo_side, upper_bound - step, xtol=1e-15, rtol=1e-15) if f(upper_bound - step) > 0 else b
    return m_crit, m_upper


def _conditional_cgf(a, mix, sigma_w2):
    r""":math:`\log E[X^a \mid S > 0]`, :math:`X = \sigma_w^2 S`; by its cumulant series for tiny ``a``."""
    half = 0.5 * mix.k
    p = np.exp(mix.log_weights)
    p = p / p.sum()
    if abs(a) < 1e-5:
        mean_k = special.digamma(half) + math.log(2.0)
        k1 = float(p @ mean_k) + math.log(sigma_w2)
        k2 = float(p @ special.polygamma(1, half) + p @ (mean_k - p @ mean_k) ** 2)
        k3 = float(p @ special.polygamma(2, half) + p @ (mean_k - p @ mean_k) ** 3
                   + 3 * p @ ((mean_k - p @ mean_k) * special.polygamma(1, half)))
        return a * k1 + a * a * k2 / 2 + a**3 * k3 / 6
    logs = np.log(p) + a * math.log(2.0) + _log_gamma_ratio(half, a)
    return a * math.log(sigma_w2) + float(special.logsumexp(logs))


def tail_index(layer: Layer):
    r"""Kesten–Goldie tail index :math:`\alpha > 0`: the root of :math:`E[(\sigma_w^2 S)^\alpha; S > 0] = 1`.

    For the random affine recursion :math:`z_l = (\sigma_w^2 z_{l-1} + \sigma_b^2) S_l`
    (constant layers, :math:`\sigma_b > 0`) the stationary law has
    :math:`P(z > t) \sim C t^{-\alpha}`. In eigenvalue terms :math:`\lambda_m = 1` at
    :math:`m = -1 - \alpha` (``alpha = 1`` for He). The bias does not enter.

    With relu, ``S = 0`` has probability :math:`2^{-N}`, so :math:`E[\log(\sigma_w^2 S)] = -\infty`
    and a root exists for every :math:`\sigma_w^2`; where
    :math:`E[\log(\sigma_w^2 S) \mid S > 0] > 0` it is tiny (about :math:`2^{-N}` over that
    drift) and is found from the cumulant series of :math:`\log(\sigma_w^2 S)`.

    Raises
    ------
    ValueError
        For an activation without an atom (linear, abs) whose drift is ``>= 0``: no root.
    """
    mix = _mixture(Layer(layer.width, layer.sigma_w2, 0.0, layer.activation))
    log_keep = math.log1p(-mix.atom)  # log P(S > 0)
    g = lambda a: log_keep + _conditional_cgf(a, mix, layer.sigma_w2)  # noqa: E731
    drift = _conditional_cgf(1e-7, mix, layer.sigma_w2) / 1e-7
    if mix.atom == 0.0 and drift >= 0:
        raise ValueError(f"E[log(sigma_w2 S)] = {drift:.4g} >= 0 and S has no atom at 0: no finite tail index")
    if mix.atom == 0.0:
        lo = 1e-8  # g(a) ~ a * drift < 0 for small a
        while g(lo) >= 0:
            lo *= 0.1
    else:
        lo = 1e-300  # g(0+) = log P(S > 0) < 0
    hi = 1.0
    while g(hi) <= 0:
        hi *= 2.0
    # in log a: the root can be as small as 2^-N / drift
    return math.exp(optimize.brentq(lambda t: g(math.exp(t)), math.log(lo), math.log(hi), xtol=1e-14, rtol=1e-15))
