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

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from ._result import Result
from .kernel import Chi2Mixture
from .network import Layer, as_network, constant_layer, require_gaussian_iid

__all__ = ["mellin_eigenvalue", "log_mellin_eigenvalue", "mellin_domain", "critical_window", "tail_index",
           "CriticalWindow"]


def _layers_of(network, name="network"):
    """The layers of anything :func:`sigdist.as_network` takes."""
    return list(as_network(network, name).layers)


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


def mellin_domain(network) -> float:
    """Supremum of the ``m`` where :math:`\\lambda_m` is finite: ``min_l k_min / 2 - 1`` (-1/2 for relu).

    ``network``: anything :func:`sigdist.as_network` takes (a Layer, a Network, a list of Layers
    or of widths), with :math:`\\sigma_b = 0` and relu, linear or abs layers.
    """
    return min(0.5 * float(_mixture(layer).k.min()) - 1.0 for layer in _layers_of(network))


def log_mellin_eigenvalue(network, m):
    r""":math:`\log \lambda_m` of a layer, or of a network (the eigenvalues of :math:`\prod_l T_l` multiply).

    Parameters
    ----------
    network : Network, Layer, list of Layers or list of widths
        Anything :func:`sigdist.as_network` takes; layers with :math:`\sigma_b = 0` and relu, linear or abs activations.
    m : array_like of float
        Exponents, each below :func:`mellin_domain` (``-1/2`` for relu).

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
    for layer in _layers_of(network):
        mix = _mixture(layer)
        bound = 0.5 * float(mix.k.min()) - 1.0
        if np.any(m_arr >= bound):
            raise ValueError(
                f"m must be < {bound:g} for this layer: the k = {int(mix.k.min())} term "
                f"Gamma(k/2 - m - 1) diverges at m = {bound:g} (got max m = {float(m_arr.max()):g})")
        a = -(m_arr[..., None] + 1.0)  # moment order of X = sigma_w2 S
        logs = mix.log_weights + a * (math.log(2.0) + mix.log_scale) + _log_gamma_ratio(0.5 * mix.k, a)
        total += a[..., 0] * math.log(layer.sigma_w2) + special.logsumexp(logs, axis=-1)
    return total if total.ndim else float(total)


def mellin_eigenvalue(network, m):
    r"""Eigenvalue :math:`\lambda_m` of :math:`T_l f_m = \lambda_m f_m`, :math:`f_m(y) = y^m` (eq. 8, corrected).

    Returns ``inf`` where :math:`\lambda_m` overflows a float64 (use
    :func:`log_mellin_eigenvalue` there). See the module docstring for the derivation.

    Examples
    --------
    >>> from sigdist import Layer
    >>> from sigdist.spectrum import mellin_eigenvalue
    >>> layer = Layer(200, 2 / 200)
    >>> round(mellin_eigenvalue(layer, -2.0), 12), round(mellin_eigenvalue(layer, -1.0), 12)  # 1 and 1 - 2^-200
    (1.0, 1.0)
    """
    with np.errstate(over="ignore"):
        out = np.exp(log_mellin_eigenvalue(network, m))
    return out if np.ndim(out) else float(out)


@dataclass(frozen=True, repr=False)
class CriticalWindow(Result):
    r"""The interval ``m_crit < m < m_upper`` where :math:`\lambda_m < 1` (:func:`critical_window`)."""

    m_crit: float
    m_upper: float


def critical_window(network):
    r"""The interval of ``m`` where :math:`\lambda_m < 1`: ``m_crit < m < m_upper``.

    :math:`\log\lambda_m` is convex, tends to ``+inf`` at both ends of its domain
    (``-inf`` and :func:`mellin_domain`), and :math:`\lambda_{-1} = P(S > 0)^L < 1`
    for relu, so the window is a non-empty interval around ``-1``. Its ends are the
    two roots of :math:`\lambda_m = 1`. For He layers ``m_crit = -2`` exactly; the
    upper end lies just above ``-1`` (the paper says the window ends at ``-1``).

    The roots are found to the accuracy of :math:`\log\lambda_m` (~1e-13) over its slope there
    (for He, ``5 / (2N)``): ``m_crit`` is ``-2`` to about ``1e-12 N``.

    Parameters
    ----------
    network : Network, Layer, list of Layers or list of widths
        Anything :func:`sigdist.as_network` takes (:math:`\sigma_b = 0`; relu, linear or abs).

    Returns
    -------
    CriticalWindow
        ``m_crit`` and ``m_upper``; both equal to the minimiser when no ``m`` has :math:`\lambda_m < 1` (where the minimum of
        :math:`\lambda_m` is exactly 1: ``E[log(sigma_w2 S)] = 0`` and no atom).
    """
    network = as_network(network)
    upper_bound = mellin_domain(network)
    f = lambda m: log_mellin_eigenvalue(network, m)  # noqa: E731
    # bracket the convex log-eigenvalue's minimum: lambda_m -> inf as m -> -inf (S is unbounded)
    lower = -50.0
    while f(lower) <= 0 or f(lower) <= f(0.5 * (lower + upper_bound)):
        lower *= 2.0
        if lower < -1e12:
            raise ValueError("no lower end of the critical window was found above m = -1e12")
    res = optimize.minimize_scalar(f, bounds=(lower, upper_bound - 1e-12), method="bounded",
                                   options={"xatol": 1e-13})
    # the interior point: the minimiser, or -1 where log(lambda_{-1}) = log(1 - 2^-N) is below it
    inside = min((float(res.x), -1.0), key=f)
    if f(inside) >= 0:
        return CriticalWindow(m_crit=inside, m_upper=inside)
    m_crit = optimize.brentq(f, lower, inside, xtol=1e-14, rtol=1e-15)
    # the upper root hides close to the domain's end when only the rare k = 1 term diverges there
    step = 1e-3
    while f(upper_bound - step) < 0 and step > 1e-15:
        step *= 0.1
    right = upper_bound - step
    m_upper = optimize.brentq(f, inside, right, xtol=1e-15, rtol=1e-15) if f(right) > 0 else right
    return CriticalWindow(m_crit=float(m_crit), m_upper=float(m_upper))


def _conditional_cgf(a, mix, sigma_w2):
    r""":math:`\log E[X^a \mid S > 0]`, :math:`X = \sigma_w^2 S`; by its cumulant series for tiny ``a``."""
    half = 0.5 * mix.k
    log_p = mix.log_weights - special.logsumexp(mix.log_weights)  # in logs: tiny weights matter at large a
    p = np.exp(log_p)
    if abs(a) < 1e-5:
        mean_k = special.digamma(half) + math.log(2.0) + mix.log_scale
        k1 = float(p @ mean_k) + math.log(sigma_w2)
        k2 = float(p @ special.polygamma(1, half) + p @ (mean_k - p @ mean_k) ** 2)
        k3 = float(p @ special.polygamma(2, half) + p @ (mean_k - p @ mean_k) ** 3
                   + 3 * p @ ((mean_k - p @ mean_k) * special.polygamma(1, half)))
        return a * k1 + a * a * k2 / 2 + a**3 * k3 / 6
    logs = log_p + a * (math.log(2.0) + mix.log_scale) + _log_gamma_ratio(half, a)
    return a * math.log(sigma_w2) + float(special.logsumexp(logs))


def tail_index(network):
    r"""Kesten–Goldie tail index :math:`\alpha > 0`: the root of :math:`E[(\sigma_w^2 S)^\alpha; S > 0] = 1`.

    For the random affine recursion :math:`z_l = (\sigma_w^2 z_{l-1} + \sigma_b^2) S_l`
    (constant layers, :math:`\sigma_b > 0`) the stationary law has
    :math:`P(z > t) \sim C t^{-\alpha}`. In eigenvalue terms :math:`\lambda_m = 1` at
    :math:`m = -1 - \alpha` (``alpha = 1`` for He). The bias does not enter.

    With relu, ``S = 0`` has probability :math:`2^{-N}`, so :math:`E[\log(\sigma_w^2 S)] = -\infty`
    and a root exists for every :math:`\sigma_w^2`; where
    :math:`E[\log(\sigma_w^2 S) \mid S > 0] > 0` it is tiny (about :math:`2^{-N}` over that
    drift) and is found from the cumulant series of :math:`\log(\sigma_w^2 S)`.

    Parameters
    ----------
    network : Layer, Network, list of Layers or list of widths
        Identical layers (the constant-layer chain; anything :func:`sigdist.as_network` takes).

    Raises
    ------
    ValueError
        For layers that differ, or an activation without an atom (linear, abs) whose drift is
        ``>= 0``: no root.
    """
    layer = constant_layer(network)
    mix = _mixture(Layer(layer.width, layer.sigma_w2, 0.0, layer.activation))
    log_keep = math.log1p(-mix.atom)  # log P(S > 0)
    g = lambda a: log_keep + _conditional_cgf(a, mix, layer.sigma_w2)  # noqa: E731
    drift = _conditional_cgf(1e-7, mix, layer.sigma_w2) / 1e-7
    if mix.atom == 0.0 and drift >= 0:
        if layer.activation.chi2_kind == "binomial":  # P(S = 0) = 2^-N underflowed
            raise ValueError(f"tail index ~ 2^-{layer.width} / {drift:.4g} underflows a float64 (the drift "
                             f"E[log(sigma_w2 S) | S > 0] = {drift:.4g} is positive and 2^-N tiny)")
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


# -- the discretised operator: eigenpairs, stationary laws, mixing ------------------------------------
