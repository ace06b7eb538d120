r"""The stationary side of the transition operator: constant layers with :math:`\sigma_b > 0`.

A chain of identical layers :math:`z_l = (\sigma_w^2 z_{l-1} + \sigma_b^2) S_l` forgets its input: its law
converges to the stationary law, the Perron eigenvector of the operator :math:`T_l` on the augmented
state (atom, density of :math:`\log z` on a log grid). This module holds that state's matrix, its
discrete spectrum, the stationary law, its exact moments and the depth at which the chain mixes
(Burkholz & Dubatovka 2019, §2.3-2.4). The exact spectrum for :math:`\sigma_b = 0` is in
:mod:`sigdist.spectrum`.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse.linalg

from ._checks import check_input_norm, check_integer, check_tol
from ._progress import check_progress, progress_bar
from ._result import Result
from ._warnings import SigdistWarning
from .fourier import conditional_columns, group_series
from .series import KernelSeries
from .grid import LogGrid, LogGridDensity
from .laws import SquaredNormLaw
from .moments import MomentChain
from .network import Layer, Network, constant_layer, require_gaussian_iid
from .operator import TransitionOperator
from .spectrum import tail_index

__all__ = ["augmented_matrix", "discrete_eigen", "stationary_law", "stationary_moments", "mixing_depth",
           "default_stationary_grid", "DiscreteSpectrum", "MixingDepth", "StationaryLaw", "StationaryMoments"]


class StationaryLaw(SquaredNormLaw):
    """The stationary law of constant layers (:func:`sigdist.stationary.stationary_law`).

    A :class:`SquaredNormLaw` with one more attribute, set by the constructor:

    Attributes
    ----------
    perron_eigenvalue : float
        The leading eigenvalue of the discretised operator on the law's grid (1 up to the
        mass the grid leaks per step, ``1 - perron_eigenvalue``).
    """

    def __init__(self, atom, continuous=None, *, perron_eigenvalue, **kwargs):
        super().__init__(atom, continuous, **kwargs)
        self.perron_eigenvalue = float(perron_eigenvalue)


def _operator_of(network, tol, name="network"):
    """A :class:`TransitionOperator` as given, or the operator of the constant layer of ``network``."""
    if isinstance(network, TransitionOperator):
        return network
    if not isinstance(network, (Network, Layer, list, tuple, np.ndarray)):
        raise ValueError(f"{name} must be a TransitionOperator, a Network, a Layer, a list of Layers or a list of "
                         f"widths [N_0, ..., N_L], got {type(network).__name__}")
    return TransitionOperator(constant_layer(network, name), tol=tol)


def augmented_matrix(operator, grid=None):
    r"""Matrix of :math:`T_l` on the state (atom, :math:`q(u_0), \dots, q(u_{n-1})`) of a log grid.

    Row/column 0 is the atom ``P(z = 0)``; the rest are samples of the density of
    ``log z``. A continuous cell carries mass ``h q_i`` and sends ``P(S = 0) h q_i``
    to the atom; the atom stays at 0 when :math:`\sigma_b = 0` and is spread as
    :math:`p_{\log S}(u - \log\sigma_b^2)` otherwise. Column sums are 1 up to the
    mass the grid loses.
    """
    if not isinstance(operator, TransitionOperator) or operator.route == "lattice":
        raise ValueError("operator must be a TransitionOperator on a log-grid route (every route but "
                         f"'lattice'), got {type(operator).__name__}")
    if grid is not None and not isinstance(grid, LogGrid):
        raise ValueError(f"grid must be a sigdist.grid.LogGrid or None, got {type(grid).__name__}")
    grid = grid if grid is not None else operator.grid
    if grid is None:
        raise ValueError("pass a LogGrid (grid=) here or to the TransitionOperator")
    layer, mix = operator.layer, operator.mixture
    n, h = grid.size, grid.spacing
    out = np.zeros((n + 1, n + 1))
    out[1:, 1:] = operator.matrix(grid)
    out[0, 1:] = operator.atom_given(grid.z) * h  # per unit of density sample
    if layer.sigma_b2 == 0.0:
        out[0, 0] = 1.0
    else:
        out[0, 0] = operator.atom_given(0.0)[0]
        if mix is not None:
            out[1:, 0] = mix.log_density(grid.points - math.log(layer.sigma_b2))
        else:
            # y = 0: the variance is the bias's alone
            out[1:, 0] = conditional_columns(operator.fourier, np.array([layer.sigma_b2]), grid.points,
                                             operator.alias_budget)[:, 0]
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


def discrete_eigen(network, k=6, grid=None):
    """Leading ``k`` eigenvalues (by modulus) and eigenvectors of the discretised operator.

    Parameters
    ----------
    network : Layer, Network, list of Layers, list of widths, or TransitionOperator
        Identical layers (their operator at ``tol = 1e-8``), or the operator itself.
    k : int
        Number of eigenpairs (``1 <= k <= n - 1`` for a grid of ``n`` points).
    grid : LogGrid, optional
        The grid; default the operator's own, else the grid :func:`stationary_law` chooses
        (:func:`default_stationary_grid`).

    Returns
    -------
    DiscreteSpectrum

    Notes
    -----
    Dense LAPACK (``scipy.linalg.eig``) up to 3000 grid points, ARPACK (``scipy.sparse.linalg.eigs``)
    above, on :func:`augmented_matrix`.
    """
    operator = _operator_of(network, 1e-8, "network")
    k = check_integer(k, "k")
    if grid is None and operator.grid is None:
        grid = default_stationary_grid(operator, 1e-8)
    A = augmented_matrix(operator, grid)
    grid = grid if grid is not None else operator.grid
    n = A.shape[0]
    if k > n - 2:
        raise ValueError(f"k must be <= {n - 2} for a grid of {n - 1} points, got {k}")
    vals, vecs = _leading_eigenpairs(A, k)
    mass = _mass_weights(grid) @ vecs
    scale = np.where(np.abs(mass) > 1e-12 * np.abs(vecs).max(axis=0), mass, 1.0)
    return DiscreteSpectrum(eigenvalues=vals, eigenvectors=vecs / scale, grid=grid)


def stationary_law(network, grid=None, tol=1e-8, *, progress=None):
    r"""Stationary law of the constant-layer chain :math:`z_l = (\sigma_w^2 z_{l-1} + \sigma_b^2) S_l`.

    Parameters
    ----------
    network : Layer, Network, list of Layers, list of widths, or TransitionOperator
        Identical layers (what :func:`sigdist.as_network` takes), or the operator of one.
    grid : LogGrid, optional
        Default: from the bias floor to where the stationary tail falls below ``tol``.
    tol : float
        Accuracy target (of the operator built here, and of the default grid).
    progress : bool or None
        A progress bar on stderr: ``None`` shows it once the work has taken 2 s, ``True`` at once,
        ``False`` never.

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
    progress = check_progress(progress)
    operator = _operator_of(network, tol)
    if grid is not None and not isinstance(grid, LogGrid):
        raise ValueError(f"grid must be a sigdist.grid.LogGrid or None, got {type(grid).__name__}")
    layer = operator.layer
    if layer.sigma_b2 == 0.0:
        return StationaryLaw(1.0, None, tol=tol, label="stationary |x|^2", perron_eigenvalue=1.0)
    if grid is None:
        grid = default_stationary_grid(operator, tol)
    with progress_bar(None, "stationary law", progress, unit="step") as bar:
        bar.set_postfix_str("operator matrix")
        A = augmented_matrix(operator, grid)
        bar.update()
        bar.set_postfix_str(f"eigenvectors of {A.shape[0]} states")
        vals, vecs = _leading_eigenpairs(A)
        bar.update()
        lam, v = _perron_vector(A, vals, vecs, grid, tol, bar)
    gap = abs(vals[1]) if len(vals) > 1 else 0.0
    leak = max(0.0, 1.0 - lam)
    # a Perron eigenvalue above 1 is mass the discretised kernel creates (a narrow layer on the Fourier
    # route): it moves the stationary law by about that excess over the spectral gap
    excess = max(0.0, lam - 1.0) / max(1.0 - gap, 1e-3)
    # the stationary mass leaks 1 - lambda per step; at equilibrium that is the mass the grid misses
    # a non-homogeneous activation has no closed moment recursion (its moments come from the grid) and,
    # on the default grid, a bounded reach (no power tail)
    homogeneous = layer.activation.homogeneous
    return StationaryLaw(v[0] * (1 - leak), LogGridDensity(grid, v[1:] * (1 - leak)),
                         discretisation_error=tol * 1e-3 + excess, tol=tol, label="stationary |x|^2",
                         tail_index=tail_index(layer) if operator.mixture is not None else math.inf,
                         moments=MomentChain.stationary(layer) if homogeneous else None,
                         perron_eigenvalue=lam)


def _perron_vector(A, vals, vecs, grid, tol, bar):
    """The Perron eigenvalue of ``A`` and its vector (mass 1), polished by power iteration."""
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
    bar.total = 2 + steps
    bar.set_postfix_str("power iteration")
    for _ in range(steps):
        v = A @ v
        v /= weights @ v
        bar.update()
    return lam, v


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
    if operator.route == "fourier":
        return _fourier_stationary_grid(operator, tol)
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


def _fourier_stationary_grid(operator, tol):
    r"""Log grid for the stationary law of a layer on the Fourier route.

    From the left ``tol * 1e-3`` quantile of the kernel at the smallest variance, :math:`\sigma_b^2`, to
    the end of the window that holds the kernel at the largest variance the chain reaches: the
    window's end :math:`P(s)` iterated, :math:`z \mapsto P(\sigma_w^2 z + \sigma_b^2)`, converges for an
    activation whose :math:`\phi^2` grows slower than the chain contracts (bounded ones: :math:`z \le N
    \sup\phi^2`); otherwise the stationary law has a power tail the route does not size (pass ``grid=``).
    """
    layer, kernel = operator.layer, operator.fourier
    eps = tol * 1e-3
    low = group_series(kernel, np.array([layer.sigma_b2]), eps)
    start = KernelSeries(low.coef[0], low.period, float(low.atoms[0])).quantile_u(eps)
    z = low.period
    for _ in range(60):
        nxt = kernel.window(layer.variance(z), eps)[1]
        if nxt <= z * (1 + 1e-3):
            break
        z = nxt
    else:
        raise ValueError(f"activation {layer.activation.name!r}: the chain's reach grows without bound (a power "
                         "tail); pass grid= to stationary_law / discrete_eigen")
    s = np.geomspace(layer.sigma_b2, layer.variance(z), 8)
    h = float(np.min(kernel.spacing(s, eps)))
    n = int(math.ceil((math.log(z) - start) / h)) + 1
    if n > 6000:
        raise ValueError(f"the stationary law needs {n} grid points at tol={tol:g}; raise tol or pass grid=")
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
    :math:`\sigma_w^4 E S^2 < 1`, with ``E S = N/2``, ``E S^2 = N(N+5)/4`` for relu. A layer whose
    activation is not positively homogeneous (tanh, ...) has no such recursion: its moments are those
    of :func:`stationary_law` (accurate to its ``tol``).

    Parameters
    ----------
    network : Layer, Network, list of Layers or list of widths
        Identical layers (anything :func:`sigdist.as_network` takes).

    Returns
    -------
    StationaryMoments
        ``first_moment`` :math:`E z` and ``second_moment`` :math:`E z^2`.
    """
    layer = constant_layer(network)
    require_gaussian_iid(layer)
    if not layer.activation.homogeneous:
        # no closed recursion: the moments of the stationary law itself (to its tol)
        law = stationary_law(layer)
        return StationaryMoments(first_moment=float(law.moment(1)), second_moment=float(law.moment(2)))
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


def mixing_depth(network, eps=1e-3, y0=1.0, *, tol=1e-8, max_depth=100_000, progress=None):
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
    progress : bool or None
        A progress bar on stderr: ``None`` shows it once the work has taken 2 s, ``True`` at once,
        ``False`` never.

    Returns
    -------
    MixingDepth
    """
    layer = constant_layer(network)
    if isinstance(eps, (bool, str)) or not isinstance(eps, numbers.Real) or not (0 < eps < 1):
        raise ValueError(f"eps must lie in (0, 1), got {eps!r}")
    y0 = check_input_norm(y0, "y0")
    max_depth = check_integer(max_depth, "max_depth")
    tol = check_tol(tol)
    progress = check_progress(progress)
    if layer.sigma_b2 == 0.0:
        raise ValueError("network: with sigma_b2 = 0 the stationary law is the atom at 0; mixing_depth needs "
                         "sigma_b2 > 0")
    op = TransitionOperator(layer, tol=tol)
    target = stationary_law(op, tol=tol, progress=progress)
    grid = target.grid
    with progress_bar(None, "mixing depth", progress, unit="layer") as bar:
        bar.set_postfix_str("spectral gap")
        A = augmented_matrix(op, grid)
        vals, _ = _leading_eigenpairs(A, k=2)
        bar.set_postfix_str("")
        return _mix(layer, grid, A, vals, target, y0, eps, tol, max_depth, bar)


def _mix(layer, grid, A, vals, target, y0, eps, tol, max_depth, bar):
    """The iteration of :func:`mixing_depth` from the first layer's law to within ``eps`` of ``target``."""
    star = np.concatenate([[target.atom], target.continuous.values])
    weights = _mass_weights(grid)
    first = TransitionOperator(layer, grid=grid, tol=tol).apply(float(y0))
    if first.mass_lost > eps:
        raise ValueError(f"y0={y0!r} sends {first.mass_lost:.3g} of the first layer's law off the stationary law's "
                         f"grid (z up to {math.exp(grid.end):.3g}); start closer to stationarity")
    v = np.zeros(grid.size + 1)
    v[1:] = first.continuous.values
    v[0] = first.atom
    distances = []
    for depth in range(1, max_depth + 1):
        distances.append(0.5 * float(weights @ np.abs(v - star)))
        if distances[-1] <= eps:
            return MixingDepth(depth=depth, spectral_rate=float(abs(vals[1])), distances=np.array(distances),
                               eps=float(eps))
        v = A @ v
        bar.update()
    raise ValueError(f"not within eps={eps:g} of stationarity after max_depth={max_depth} layers")
