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
import numbers
import warnings

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse.linalg
from scipy import optimize, special

from ._checks import check_input_norm, check_integer, check_tol
from ._result import Result
from ._warnings import SigdistWarning
from .grid import LogGrid, LogGridDensity
from .kernel import Chi2Mixture
from .laws import StationaryLaw, SquaredNormLaw
from .moments import MomentChain
from .network import Layer, Network, as_network, require_gaussian_iid
from .operator import TransitionOperator

__all__ = ["mellin_eigenvalue", "log_mellin_eigenvalue", "mellin_domain", "critical_window", "tail_index",
           "augmented_matrix", "discrete_eigen", "stationary_law", "stationary_moments", "mixing_depth",
           "CriticalWindow", "DiscreteSpectrum", "MixingDepth", "StationaryMoments"]


def _layers_of(network, name="network"):
    """The layers of anything :func:`sigdist.as_network` takes."""
    return list(as_network(network, name).layers)


def _constant_layer(network, name="network"):
    """The one layer of a chain of identical layers: what a stationary analysis reads."""
    layers = _layers_of(network, name)
    distinct = []
    for layer in layers:
        if all(layer != other for other in distinct):
            distinct.append(layer)
    if len(distinct) > 1:
        raise ValueError(f"{name}: a stationary analysis needs identical layers (a Layer, or e.g. "
                         f"Network.constant(width, depth, sigma_w2, sigma_b2)); got {len(distinct)} distinct "
                         "layers")
    return distinct[0]


def _operator_of(network, tol, name="network"):
    """A :class:`TransitionOperator` as given, or the operator of the constant layer of ``network``."""
    if isinstance(network, TransitionOperator):
        return network
    if not isinstance(network, (Network, Layer, list, tuple, np.ndarray)):
        raise ValueError(f"{name} must be a TransitionOperator, a Network, a Layer, a list of Layers or a list of "
                         f"widths [N_0, ..., N_L], got {type(network).__name__}")
    return TransitionOperator(_constant_layer(network, name), tol=tol)


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


def log_mellin_eigenvalue(m, network):
    r""":math:`\log \lambda_m` of a layer, or of a network (the eigenvalues of :math:`\prod_l T_l` multiply).

    Parameters
    ----------
    m : array_like of float
        Exponents, each below :func:`mellin_domain` (``-1/2`` for relu).
    network : Network, Layer, list of Layers or list of widths
        Anything :func:`sigdist.as_network` takes; layers with :math:`\sigma_b = 0` and relu, linear or abs activations.

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
        logs = mix.log_weights + a * math.log(2.0) + _log_gamma_ratio(0.5 * mix.k, a)
        total += a[..., 0] * math.log(layer.sigma_w2) + special.logsumexp(logs, axis=-1)
    return total if total.ndim else float(total)


def mellin_eigenvalue(m, network):
    r"""Eigenvalue :math:`\lambda_m` of :math:`T_l f_m = \lambda_m f_m`, :math:`f_m(y) = y^m` (eq. 8, corrected).

    Returns ``inf`` where :math:`\lambda_m` overflows a float64 (use
    :func:`log_mellin_eigenvalue` there). See the module docstring for the derivation.

    Examples
    --------
    >>> from sigdist import Layer
    >>> from sigdist.spectrum import mellin_eigenvalue
    >>> layer = Layer(200, 2 / 200)
    >>> round(mellin_eigenvalue(-2.0, layer), 12), round(mellin_eigenvalue(-1.0, layer), 12)  # 1 and 1 - 2^-200
    (1.0, 1.0)
    """
    with np.errstate(over="ignore"):
        out = np.exp(log_mellin_eigenvalue(m, network))
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
    f = lambda m: log_mellin_eigenvalue(m, network)  # noqa: E731
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
        mean_k = special.digamma(half) + math.log(2.0)
        k1 = float(p @ mean_k) + math.log(sigma_w2)
        k2 = float(p @ special.polygamma(1, half) + p @ (mean_k - p @ mean_k) ** 2)
        k3 = float(p @ special.polygamma(2, half) + p @ (mean_k - p @ mean_k) ** 3
                   + 3 * p @ ((mean_k - p @ mean_k) * special.polygamma(1, half)))
        return a * k1 + a * a * k2 / 2 + a**3 * k3 / 6
    logs = log_p + a * math.log(2.0) + _log_gamma_ratio(half, a)
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
    layer = _constant_layer(network)
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

def augmented_matrix(operator, grid=None):
    r"""Matrix of :math:`T_l` on the state (atom, :math:`q(u_0), \dots, q(u_{n-1})`) of a log grid.

    Row/column 0 is the atom ``P(z = 0)``; the rest are samples of the density of
    ``log z``. A continuous cell carries mass ``h q_i`` and sends ``P(S = 0) h q_i``
    to the atom; the atom stays at 0 when :math:`\sigma_b = 0` and is spread as
    :math:`p_{\log S}(u - \log\sigma_b^2)` otherwise. Column sums are 1 up to the
    mass the grid loses.
    """
    if not isinstance(operator, TransitionOperator) or operator.mixture is None:
        raise ValueError("operator must be a TransitionOperator on a log-grid route (relu, linear, abs), got "
                         f"{type(operator).__name__}")
    if grid is not None and not isinstance(grid, LogGrid):
        raise ValueError(f"grid must be a sigdist.grid.LogGrid or None, got {type(grid).__name__}")
    grid = grid if grid is not None else operator.grid
    if grid is None:
        raise ValueError("pass a LogGrid (grid=) here or to the TransitionOperator")
    layer, mix = operator.layer, operator.mixture
    n, h = grid.size, grid.spacing
    out = np.zeros((n + 1, n + 1))
    out[1:, 1:] = operator.matrix(grid)
    out[0, 1:] = mix.atom * h  # per unit of density sample
    if layer.sigma_b2 == 0.0:
        out[0, 0] = 1.0
    else:
        out[0, 0] = mix.atom
        out[1:, 0] = mix.log_density(grid.points - math.log(layer.sigma_b2))
    return out


def _mass_weights(grid):
    w = np.full(grid.size + 1, grid.spacing)
    w[0] = 1.0
    return w


@dataclass(frozen=True, repr=False)
class DiscreteSpectrum(Result):
    """Leading eigenpairs of the discretised operator on the augmented state (atom, density samples).

    Attributes
    ----------
    eigenvalues : ndarray, shape (k,)
        Complex in general; sorted by decreasing modulus.
    eigenvectors : ndarray, shape (n + 1, k)
        Column ``j`` is the eigenvector of ``eigenvalues[j]`` over the state (entry 0: the atom
        ``P(z = 0)``; entries ``1..n``: samples of the density of ``log z`` on ``grid``), scaled
        to unit total mass where that is nonzero.
    grid : LogGrid
        The grid of the state.
    """

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    grid: LogGrid

    _dims = {"eigenvalues": ("eigen",), "eigenvectors": ("state", "eigen")}


def discrete_eigen(operator, k=6, grid=None):
    """Leading ``k`` eigenvalues (by modulus) and eigenvectors of the discretised operator.

    Parameters
    ----------
    operator : TransitionOperator, or what :func:`sigdist.as_network` takes
        The operator, or identical layers (their operator at ``tol = 1e-8``).
    k : int
        Number of eigenpairs (``1 <= k <= n - 1`` for a grid of ``n`` points).
    grid : LogGrid, optional
        The grid; default the operator's own (a stationary law's ``.grid`` is a good one).

    Returns
    -------
    DiscreteSpectrum

    Notes
    -----
    Dense LAPACK (``scipy.linalg.eig``) up to 3000 grid points, ARPACK (``scipy.sparse.linalg.eigs``)
    above, on :func:`augmented_matrix`.
    """
    operator = _operator_of(operator, 1e-8, "operator")
    k = check_integer(k, "k")
    A = augmented_matrix(operator, grid)
    grid = grid if grid is not None else operator.grid
    n = A.shape[0]
    if k > n - 2:
        raise ValueError(f"k must be <= {n - 2} for a grid of {n - 1} points, got {k}")
    vals, vecs = _leading_eigenpairs(A, k)
    mass = _mass_weights(grid) @ vecs
    scale = np.where(np.abs(mass) > 1e-12 * np.abs(vecs).max(axis=0), mass, 1.0)
    return DiscreteSpectrum(eigenvalues=vals, eigenvectors=vecs / scale, grid=grid)


def stationary_law(network, grid=None, tol=1e-8):
    r"""Stationary law of the constant-layer chain :math:`z_l = (\sigma_w^2 z_{l-1} + \sigma_b^2) S_l`.

    Parameters
    ----------
    network : Layer, Network, list of Layers, list of widths, or TransitionOperator
        Identical layers (what :func:`sigdist.as_network` takes), or the operator of one.
    grid : LogGrid, optional
        Default: from the bias floor to where the stationary tail falls below ``tol``.
    tol : float
        Accuracy target (of the operator built here, and of the default grid).

    Returns
    -------
    StationaryLaw
        A :class:`~sigdist.laws.SquaredNormLaw` that also carries ``perron_eigenvalue``.

    Notes
    -----
    With :math:`\sigma_b > 0` the chain regenerates: whenever every unit of a layer is
    inactive (probability :math:`2^{-N}`) it restarts from ``z = 0``; the return
    time to the atom is geometric, so the chain is positive recurrent and has a
    unique stationary law for every :math:`\sigma_w^2` (docs/spectrum.md). With
    :math:`\sigma_b = 0` the only stationary law is the atom at 0.

    It is the Perron eigenvector of :func:`augmented_matrix`. The default grid runs
    from the bias floor :math:`\log\sigma_b^2 + x_{lo}` to where the stationary tail
    :math:`P(z > t) \approx t^{-\alpha}` (``alpha`` = :func:`tail_index`) falls below ``tol``;
    the mass it leaks per step (``1 - lambda_1``) is reported as ``mass_lost``.
    """
    tol = check_tol(tol)
    operator = _operator_of(network, tol)
    if grid is not None and not isinstance(grid, LogGrid):
        raise ValueError(f"grid must be a sigdist.grid.LogGrid or None, got {type(grid).__name__}")
    layer = operator.layer
    if layer.sigma_b2 == 0.0:
        return StationaryLaw(1.0, None, tol=tol, label="stationary |x|^2", perron_eigenvalue=1.0)
    if grid is None:
        grid = default_stationary_grid(operator, tol)
    A = augmented_matrix(operator, grid)
    vals, vecs = _leading_eigenpairs(A)
    lam, v = vals[0].real, np.real(vecs[:, 0])
    weights = _mass_weights(grid)
    v = v * np.sign(weights @ v)  # ARPACK may return -v
    # the Perron vector is nonnegative; entries at ARPACK's roundoff level are noise, which the z^2
    # weight of a far tail would magnify: zero them and let the iteration below rebuild the tails
    v = np.where(v > 1e-13 * v.max(), v, 0.0)
    v /= weights @ v
    # ARPACK's vector is accurate to ~1e-16 of its largest entry; far-tail entries, which carry the
    # moments, need relative accuracy: polish by power iteration, whose nonnegative sums do not cancel
    gap = abs(vals[1]) if len(vals) > 1 else 0.0
    steps = 0 if gap <= 0 else min(20000, int(math.ceil(math.log(tol * 1e-3) / math.log(max(gap, 1e-300)))))
    steps += grid.size  # enough for the tails to be rebuilt across the whole grid
    for _ in range(steps):
        v = A @ v
        v /= weights @ v
    leak = max(0.0, 1.0 - lam)
    # the stationary mass leaks 1 - lambda per step; at equilibrium that is the mass the grid misses
    return StationaryLaw(v[0] * (1 - leak), LogGridDensity(grid, v[1:] * (1 - leak)),
                         discretisation_error=tol * 1e-3, tol=tol, label="stationary |x|^2",
                         tail_index=tail_index(layer), moments=MomentChain.stationary(layer),
                         perron_eigenvalue=lam)


def _leading_eigenpairs(A, k=2):
    """Leading ``k`` eigenpairs: dense LAPACK up to 3000 states, ARPACK above (falling back to
    what it converged, or to power iteration for the Perron pair, when a cluster stalls it)."""
    if A.shape[0] <= 3001:
        vals, vecs = scipy.linalg.eig(A)
    else:
        try:
            vals, vecs = scipy.sparse.linalg.eigs(A, k=k, which="LM", tol=1e-14)
        except scipy.sparse.linalg.ArpackNoConvergence as err:
            vals, vecs = err.eigenvalues, err.eigenvectors
            if vals.size == 0:
                v = np.ones(A.shape[0])
                for _ in range(2000):
                    v = A @ v
                    v /= np.linalg.norm(v)
                vals, vecs = np.array([v @ (A @ v), 0.99]), np.stack([v, v], axis=1)
    order = np.argsort(-np.abs(vals))[:k]
    return vals[order], vecs[:, order]


def default_stationary_grid(operator, tol):
    """Log grid for the stationary law: bias floor to the ``tol`` point of the power tail."""
    layer, mix = operator.layer, operator.mixture
    x_lo, x_hi = mix.log_range(tol * 1e-3)
    alpha = tail_index(layer)
    if alpha < 0.05:
        raise ValueError(f"tail index {alpha:.3g}: the stationary law is too heavy-tailed for a grid "
                         f"(pass grid= to choose one and read mass_lost)")
    # the tail decays as t^-alpha; reach where it, and the tail shares of E[z] and E[z^2] where they
    # are finite, fall below tol (dropping the highest moment if that needs more than 6000 points)
    start = math.log(layer.sigma_b2) + x_lo
    scale = max(math.log(layer.sigma_b2 * (layer.width / 2 + 1)), start)
    orders = [r for r in (0, 1, 2) if alpha > r]
    end = scale + x_hi + max(math.log(1.0 / tol) / (alpha - r) for r in orders)
    h = operator.required_spacing()
    n = int(math.ceil((end - start) / h)) + 1
    while n > 6000 and len(orders) > 1:  # give up the highest moment's accuracy before refusing
        dropped = orders.pop()
        warnings.warn(f"stationary law: its grid cannot hold the tail share of E[z^{dropped}] below tol "
                      f"(tail index {alpha:.3g}); that moment is less accurate", SigdistWarning, stacklevel=3)
        end = scale + x_hi + max(math.log(1.0 / tol) / (alpha - r) for r in orders)
        n = int(math.ceil((end - start) / h)) + 1
    if n > 6000:
        raise ValueError(f"the stationary law needs {n} grid points at tol={tol:g} (tail index {alpha:.3g}); "
                         "raise tol or pass grid=")
    return LogGrid(start, h, n)


@dataclass(frozen=True, repr=False)
class StationaryMoments(Result):
    """The exact first two moments of the stationary law (:func:`stationary_moments`); ``inf`` where they
    diverge."""

    first_moment: float
    second_moment: float


def stationary_moments(network):
    r"""Exact first two moments of the stationary law (``inf`` where they diverge).

    :math:`E z = \sigma_b^2 E S / (1 - \sigma_w^2 E S)` if :math:`\sigma_w^2 E S < 1`;
    :math:`E z^2 = E S^2 (2\sigma_w^2\sigma_b^2 E z + \sigma_b^4) / (1 - \sigma_w^4 E S^2)` if
    :math:`\sigma_w^4 E S^2 < 1`, with ``E S = N/2``, ``E S^2 = N(N+5)/4`` for relu.

    Parameters
    ----------
    network : Layer, Network, list of Layers or list of widths
        Identical layers (anything :func:`sigdist.as_network` takes).

    Returns
    -------
    StationaryMoments
        ``first_moment`` :math:`E z` and ``second_moment`` :math:`E z^2`.
    """
    layer = _constant_layer(network)
    require_gaussian_iid(layer)
    logm, _ = MomentChain.stationary(layer).log_moments(2)
    with np.errstate(over="ignore"):
        m1, m2 = np.exp(logm[1:])
    return StationaryMoments(first_moment=float(m1), second_moment=float(m2))


@dataclass(frozen=True, repr=False)
class MixingDepth(Result):
    r"""How fast constant layers forget their input: the result of :func:`mixing_depth`.

    Attributes
    ----------
    depth : int
        First depth whose law is within ``eps`` of the stationary law in total variation.
    spectral_rate : float
        :math:`|\lambda_2|` of the discretised operator: the asymptotic rate of the distance.
    distances : ndarray, shape (depth,)
        The total-variation distance at depths ``1..depth``.
    eps : float
        The distance asked for.
    """

    depth: int
    spectral_rate: float
    distances: np.ndarray
    eps: float

    _dims = {"distances": ("layer",)}
    _coords = {"layer": lambda self: np.arange(1, len(self.distances) + 1)}


def mixing_depth(network, eps=1e-3, y0=1.0, *, tol=1e-8, max_depth=100_000):
    r"""Depth at which the law of :math:`|x_l|^2` (constant layers, start ``y0``) is within ``eps`` of stationarity.

    Distance is total variation, :math:`\tfrac12(|a_l - a_*| + \int |q_l - q_*|)`. The law is
    iterated on the stationary law's grid until the distance falls below ``eps``;
    the spectral gap gives the rate, :math:`d(l) \approx C |\lambda_2|^l`.

    Parameters
    ----------
    network : Layer, Network, list of Layers or list of widths
        Identical layers with :math:`\sigma_b > 0` (anything :func:`sigdist.as_network` takes).
    eps : float in (0, 1)
    y0 : float
        The squared input norm.
    tol : float
    max_depth : int

    Returns
    -------
    MixingDepth
    """
    layer = _constant_layer(network)
    if isinstance(eps, (bool, str)) or not isinstance(eps, numbers.Real) or not (0 < eps < 1):
        raise ValueError(f"eps must lie in (0, 1), got {eps!r}")
    y0 = check_input_norm(y0, "y0")
    max_depth = check_integer(max_depth, "max_depth")
    tol = check_tol(tol)
    if layer.sigma_b2 == 0.0:
        raise ValueError("network: with sigma_b2 = 0 the stationary law is the atom at 0; mixing_depth needs "
                         "sigma_b2 > 0")
    op = TransitionOperator(layer, tol=tol)
    target = stationary_law(op, tol=tol)
    grid = target.grid
    A = augmented_matrix(op, grid)
    vals, _ = _leading_eigenpairs(A, k=2)
    star = np.concatenate([[target.atom], target.continuous.values])
    weights = _mass_weights(grid)
    first = TransitionOperator(layer, grid=grid, tol=tol).apply(float(y0))
    if first.mass_lost > eps:
        raise ValueError(f"y0={y0!r} sends {first.mass_lost:.3g} of the first layer's law off the stationary law's "
                         f"grid (z up to {math.exp(grid.end):.3g}); start closer to stationarity")
    v = np.zeros(grid.size + 1)
    v[1:] = first.continuous.values
    v[0] = op.mixture.atom
    distances = []
    for depth in range(1, max_depth + 1):
        distances.append(0.5 * float(weights @ np.abs(v - star)))
        if distances[-1] <= eps:
            return MixingDepth(depth=depth, spectral_rate=float(abs(vals[1])), distances=np.array(distances),
                               eps=float(eps))
        v = A @ v
    raise ValueError(f"not within eps={eps:g} of stationarity after max_depth={max_depth} layers")
