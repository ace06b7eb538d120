"""Laws of ``|x^(l)|^2`` layer by layer: ``p_l = T_l p_{l-1}`` (Prop. 1).

:func:`squared_norm_law` and :func:`layer_laws` are the front door: they read a
:class:`~sigdist.network.Network`, pick the discretisation that meets ``tol``,
push the input (a point ``|x^(0)|^2 = y0`` or a law) through every layer, and
return frozen-distribution results that carry their error estimates.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from . import _fft
from .grid import Lattice, LatticeDensity, LogGrid, LogGridDensity
from ._warnings import SigdistWarning
from ._richardson import richardson_law
from .laws import SquaredNormLaw
from .moments import MomentChain, SquaredNormMoments, product_tails
from ._checks import check_input_norm, check_integer, check_tol
from ._progress import check_progress, progress_bar
from .network import Network, as_network, require_gaussian_iid
from .one_step import OneStep
from .operator import TransitionOperator
from .stationary import augmented_matrix, default_stationary_grid

__all__ = ["squared_norm_law", "layer_laws", "squared_norm_moments"]


def layer_laws(network, y0=1.0, *, input_law=None, tol=1e-8, method="auto", lattice_size=2048, progress=None):
    return _laws(network, y0, input_law, tol, method, lattice_size, keep_all=True, progress=progress)


def _laws(network, y0, input_law, tol, method, lattice_size, keep_all, progress=None):
    r"""Laws of :math:`|x^{(l)}|^2` for every layer ``l = 1..L``.

    Parameters
    ----------
    network : Network
    y0 : float
        Squared input norm :math:`|x^{(0)}|^2` (finite, ``>= 0``); ignored when
        ``input_law`` is given.
    input_law : scipy frozen distribution or SquaredNormLaw, optional
        Law of :math:`|x^{(0)}|^2` (supported on ``[0, inf)``).
    tol : float
        Target sup-norm CDF accuracy. Grid spacing and dropped tail mass are set
        from it; a :class:`~sigdist.laws.SigdistWarning` is issued for a law whose
        error estimate exceeds it.
    method : {"auto", "exact", "lattice"}
        ``"auto"`` and ``"exact"``: the log-grid routes of :mod:`sigdist.operator` for every
        activation (the chi-square routes for relu, linear and abs; the Fourier route of
        :mod:`sigdist.fourier` for the others). ``"lattice"``: the generic second-order route, an
        independent cross-check.
    lattice_size : int
        Lattice points per layer for the lattice route.
    progress : bool or None
        A progress bar on stderr, one tick a layer: ``None`` shows it once the work has taken 2 s,
        ``True`` at once, ``False`` never.

    Returns
    -------
    list of SquaredNormLaw

    Raises
    ------
    ValueError
        For a bad network, a negative or non-finite ``y0``, ``tol`` outside
        ``(0, 1)``, an unknown method, or an input law with mass below 0.

    Notes
    -----
    The log-grid routes solve :math:`p_l = T_l p_{l-1}` (eq. 1) by the trapezoid rule in
    ``u = log z``, with the kernel of eq. 7 (relu, linear, abs) or the kernel of Prop. 1 by Fourier
    inversion (any other activation); see :mod:`sigdist.operator`.
    The lattice route's discretisation error is estimated by repeating the
    computation on lattices two and four times coarser (Richardson with the
    observed order).

    References
    ----------
    Burkholz & Dubatovka (2019), Prop. 1 (eq. 1), Prop. 4 (eq. 7).
    """
    network = as_network(network)
    tol = check_tol(tol)
    if method not in ("auto", "exact", "lattice"):
        raise ValueError(f"method must be 'auto', 'exact' or 'lattice', got {method!r}")
    check_integer(lattice_size, "lattice_size", 64)  # the error estimate reruns at n/2 and n/4
    if input_law is None:
        y0 = check_input_norm(y0, "y0")
    progress = check_progress(progress)
    use_lattice = method == "lattice"
    if use_lattice:
        with progress_bar(3 * network.depth, "laws of |x|^2 (lattice, 3 levels)", progress, unit="layer") as bar:
            runs = [_propagate_lattice(network, y0, input_law, tol, lattice_size // k, bar) for k in (1, 2, 4)]
        if not keep_all:  # Richardson needs each level's layers; the moment chain needs the previous law
            runs = [run[-2:] for run in runs]
        laws = [richardson_law(*levels, tol) for levels in zip(*runs)]
        for before, law in zip(laws[:-1], laws[1:]):
            if law.moment_chain.source is not None:  # averages over the previous law carry its full error
                law.moment_chain.source = before.quadrature_nodes()
    elif not keep_all and input_law is None and _is_product_chain(network, y0):
        laws = [_product_law(network, y0, tol)]
    else:
        with progress_bar(network.depth, "laws of |x|^2", progress, unit="layer") as bar:
            laws = _propagate_log(network, y0, input_law, tol, keep_all, bar)
    for l, law in enumerate(laws, start=network.depth - len(laws) + 1):
        law.label = f"|x^({l})|^2"
    last = laws[-1]
    if last.error_estimate > tol:
        warnings.warn(
            f"law of {last.label}: error estimate {last.error_estimate:.3g} (mass lost {last.mass_lost:.3g}, "
            f"discretisation {last.discretisation_error:.3g}) exceeds tol={tol:.3g}", SigdistWarning, stacklevel=2)
    return laws


layer_laws.__doc__ = _laws.__doc__  # the public name shows the docstring (help, the API reference)


def squared_norm_law(network, y0=1.0, *, input_law=None, tol=1e-8, method="auto", lattice_size=2048,
                     progress=None):
    r"""Law of :math:`|x^{(L)}|^2` at the last layer (see :func:`layer_laws` for the parameters).

    Examples
    --------
    >>> from sigdist import Network, squared_norm_law
    >>> law = squared_norm_law(Network.constant(200, 9, 2 / 200), y0=1.0)
    >>> round(law.mean(), 8), law.atom < 1e-50
    (1.0, True)
    """
    return _laws(network, y0, input_law, tol, method, lattice_size, keep_all=False, progress=progress)[-1]


# -- exact log-grid routes ------------------------------------------------------------------------

def _propagate_log(network, y0, input_law, tol, keep_all=True, bar=None):
    depth = network.depth
    shared = {}  # one operator per distinct layer (layers compare by their fields): kernel ranges computed once
    ops = []
    for layer in network:
        if layer not in shared:
            shared[layer] = TransitionOperator(layer, tol=tol)
        ops.append(shared[layer])
    # the CDF error budget tol * 1e-3 is split over the layers, both for aliasing and for the dropped
    # tails; the spacing depends only logarithmically on its share, so depth 10^4 stays affordable
    budget = tol * 1e-3 / depth
    spacing = min(op.required_spacing(budget) for op in shared.values())
    for op in shared.values():
        op.spacing = spacing
        # the Fourier route's share covers its series' errors and its grid's resolution: tol / 10 over the
        # layers keeps its laws within tol at a fraction of the cost of the chi-square routes' tighter share
        op.alias_budget = budget * 100.0 if op.route == "fourier" else budget
    law = y0 if input_law is None else _log_input(input_law, spacing, tol * 1e-3)
    laws = []
    i = 0
    while i < depth:
        run = 1  # a run of identical layers
        while i + run < depth and ops[i + run] is ops[i]:
            run += 1
        op = ops[i]
        law = op.apply(law, tail=budget)
        _tick(bar)
        if keep_all:
            laws.append(law)
        biased = op.route == "log-dense" or (op.route == "fourier" and op.layer.sigma_b2 > 0)
        if run > _FIXED_GRID_RUN and biased:
            fixed = _fixed_grid_run(op, law, run - 1, budget, keep_all, bar)
            if fixed is not None:
                laws.extend(fixed[:-1] if keep_all else [])
                law = fixed[-1]
                if keep_all:
                    laws.append(law)
                i += run
                continue
        for _ in range(run - 1):
            law = op.apply(law, tail=budget)
            _tick(bar)
            if keep_all:
                laws.append(law)
        i += run
    return laws if keep_all else [law]


# a run of identical biased layers longer than this is iterated as a matrix on one fixed grid
_FIXED_GRID_RUN = 8
_FIXED_GRID_MAX = 6000


def _fixed_grid_run(op, law, count, budget, keep_all, bar=None):
    r"""``count`` further applications of a biased layer on one grid: the grid of ``law`` joined
    with the stationary law's (which every law of the chain approaches), and the augmented matrix
    of :func:`sigdist.stationary.augmented_matrix` applied ``count`` times (one dense matrix-vector
    product a layer, or repeated squaring when only the last law is kept: nonnegative products,
    no cancellation). Mass that leaves the grid is counted in ``mass_lost``. Returns None when
    the joined grid would exceed 6000 points (the chain is then iterated layer by layer).
    """
    h = law.continuous.grid.spacing if law.continuous is not None else op.spacing
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SigdistWarning)  # its moment caveats do not apply here
            stat = default_stationary_grid(op, min(0.5, budget * 1e3))
    except ValueError:
        return None
    lo, hi = stat.start, stat.end
    if law.continuous is not None:
        lo, hi = min(lo, law.continuous.grid.start), max(hi, law.continuous.grid.end)
    n = int(math.ceil((hi - lo) / h)) + 1
    if n > _FIXED_GRID_MAX:
        return None
    grid = LogGrid(lo, h, n)
    fixed = TransitionOperator(op.layer, grid=grid, tol=op.tol)
    fixed.alias_budget = op.alias_budget
    A = augmented_matrix(fixed, grid)
    v = np.zeros(n + 1)
    v[0] = law.atom
    if law.continuous is not None:
        v[1:] = law.continuous.density_u(grid.points)
    carried = law.grid_error
    out = []

    def then(before):  # the moment chain one layer on
        node = before.moment_chain
        return node.then(op.layer) if node is not None else None

    def make(vec, layers_done, moments, previous=None):
        cont = LogGridDensity(grid, np.maximum(vec[1:], 0.0))
        step = None
        if previous is not None and op.mixture is not None:  # the one-step tails average the kernel over it
            log_y, w, _ = previous.quadrature_nodes()
            step = OneStep(op.layer, op.layer.log_variance(log_y), w, point=False)
        return SquaredNormLaw(vec[0], cont, tol=op.tol, warn=False, moments=moments, step=step,
                              discretisation_error=carried + layers_done * op.alias_budget + cont.resolution_error)

    if keep_all:
        previous = law
        for j in range(count):
            v = A @ v
            previous = make(v, j + 1, then(previous), previous)
            out.append(previous)
            _tick(bar)
        return out
    # only the last law: v_{count-1} by repeated squaring, then one step that records its input
    before = law
    if count > 1:
        v = np.linalg.matrix_power(A, count - 1) @ v
        node = law.moment_chain  # the moment chain of the skipped layers
        for _ in range(count - 1):
            node = node.then(op.layer) if node is not None else None
        before = make(v, count - 1, node)
    last = make(A @ v, count, then(before), before)
    _tick(bar, count)
    return [last]


def _tick(bar, n=1):
    if bar is not None:
        bar.update(n)


def _push(ops, law, tail, bar=None):
    """``p_l = T_l p_{l-1}`` for every operator in turn; the input is a law or a point ``y0``."""
    laws = []
    for op in ops:
        law = op.apply(law, tail=tail)
        laws.append(law)
        _tick(bar)
    return laws


def _is_product_chain(network, y0):
    return y0 > 0 and all(layer.sigma_b2 == 0 and layer.activation.chi2_kind is not None
                          and layer.is_gaussian_iid for layer in network)


def _product_law(network, y0, tol):
    r"""The last law of a zero-bias chi-square chain from a point, in one step whatever the depth.

    :math:`\log z_L` is a sum of independent terms with the closed-form characteristic function
    :math:`M(i\omega)` (:mod:`sigdist._mellin`); its density on a log grid is one inverse FFT of
    :math:`M` sampled at the grid's frequencies. The grid spans the Chernoff bounds
    :math:`P(U \le x) \le e^{K(\theta) - \theta x}` (``theta < 0``) and its mirror at the dropped
    tail mass, its spacing resolves :math:`M` down to ``tol * 1e-3`` at the Nyquist frequency,
    and its period is twice its span, so the wrapped-around mass is below the dropped one.
    """
    node = MomentChain.point(y0)
    for layer in network:
        node = node.then(layer)
    tails = product_tails(node)
    eps = tol * 1e-3
    lo, hi = tails.chernoff_range(eps)
    k0, mean, var = tails.cgf(0.0)
    sd = math.sqrt(var)
    omega = 1.0 / sd
    while tails.log_mellin(1j * omega).real - k0 > math.log(eps * 1e-2):
        omega *= 1.25
    h = min(math.pi / omega, sd / 8.0)
    n_keep = int(math.ceil((hi - lo) / h)) + 1
    n = _fft.next_fast_len(2 * n_keep)
    period = n * h
    w = 2.0 * math.pi * np.arange(n // 2 + 1) / period
    log_m = tails.log_mellin(1j * w)
    spectrum = np.exp(log_m - 1j * w * lo)
    q = np.fft.irfft(np.conj(spectrum), n)[:n_keep] * n / period
    q = np.maximum(q, 0.0)  # roundoff below zero in the far tails; those are answered exactly
    atom = tails.atom
    cont = LogGridDensity(LogGrid(lo, h, n_keep), q)
    step = None
    if network.depth == 1:  # one layer: the closed form answers every point
        layer = network[0]
        step = OneStep(layer, layer.log_variance(np.array([math.log(y0)])), np.ones(1), point=True)
    return SquaredNormLaw(atom, cont, discretisation_error=eps + cont.resolution_error, tol=tol, warn=False,
                          moments=node, step=step)


def _log_input(input_law, spacing, eps):
    """Input law as a :class:`SquaredNormLaw` on a log grid fine enough to hold it."""
    if isinstance(input_law, SquaredNormLaw):
        if input_law.continuous is not None and not isinstance(input_law.continuous, LogGridDensity):
            raise ValueError("input_law lives on a lattice; pass method='lattice'")
        return input_law
    dist = _check_frozen(input_law)
    atom = float(dist.cdf(0.0))
    lo, hi = float(dist.ppf(atom + eps)), float(dist.isf(eps))
    if not (hi > 0 and math.isfinite(hi)):
        return SquaredNormLaw(1.0, None, warn=False, moments=MomentChain.point(0.0))
    lo = max(lo, 1e-320)
    # a heavy right tail: reach where its share of E[y^2] (where finite) is below eps too
    for _ in range(8):
        tail2 = _tail_share(dist, hi)
        if not (tail2 > eps):
            break
        hi *= 10.0
    expected = float(dist.cdf(hi) - dist.cdf(lo))
    h = spacing
    max_points = 20000
    while True:
        n = int(math.ceil((math.log(hi) - math.log(lo)) / h)) + 1
        grid = LogGrid(math.log(lo), h, max(n, 8))
        z = grid.z
        q = z * dist.pdf(z)
        err = abs(h * q.sum() - expected)
        if err <= eps:
            break
        if 2 * n > max_points:
            warnings.warn(f"input_law: its density is not resolved on a log grid of {n} points (mass error "
                          f"{err:.3g}): a jump or a kink in the density? The laws carry that error.",
                          SigdistWarning, stacklevel=4)
            break
        h *= 0.5
    return SquaredNormLaw(atom, LogGridDensity(grid, q), discretisation_error=err, warn=False,
                          moments=MomentChain.from_input(dist))


def _tail_share(dist, t):
    """Share of ``E[y^2]`` above ``t`` (0 when the moment is infinite or cannot be computed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            total = float(dist.moment(2))
            if not (math.isfinite(total) and total > 0):
                return 0.0
            above = float(dist.expect(lambda y: y * y, lb=t))
        except Exception:  # noqa: BLE001 - scipy's quadrature can fail on exotic laws; then trust isf
            return 0.0
    return above / total if math.isfinite(above) else 0.0


def _check_frozen(dist):
    frozen = hasattr(dist, "dist") and hasattr(dist, "args")
    if not frozen or not all(hasattr(dist, a) for a in ("cdf", "pdf", "ppf", "isf", "support")):
        raise ValueError("input_law must be a scipy.stats frozen continuous distribution (e.g. stats.gamma(2)) "
                         f"or a SquaredNormLaw, got {dist!r}")
    lower = float(dist.support()[0])
    if lower < 0:
        raise ValueError(f"input_law must be supported on [0, inf); its support starts at {lower}")
    return dist


# -- the generic lattice route -------------------------------------------------------------------

def _propagate_lattice(network, y0, input_law, tol, lattice_size, bar=None):
    ops = [TransitionOperator(layer, method="lattice", tol=tol, lattice_size=lattice_size) for layer in network]
    tail = tol * 1e-3 / network.depth
    start = y0 if input_law is None else _lattice_input(input_law, lattice_size, tol * 1e-3)
    return _push(ops, start, tail, bar)


def _lattice_input(input_law, n, eps):
    if isinstance(input_law, SquaredNormLaw):
        if input_law.continuous is not None and not isinstance(input_law.continuous, LatticeDensity):
            # read a log-grid law onto a lattice through its CDF, up to its grid's end
            return _lattice_from_cdf(input_law.cdf, input_law.atom, input_law.grid_top(), n,
                                     MomentChain.from_input(input_law))
        return input_law
    dist = _check_frozen(input_law)
    return _lattice_from_cdf(dist.cdf, float(dist.cdf(0.0)), float(dist.isf(eps)), n, MomentChain.from_input(dist))


def _lattice_from_cdf(cdf, atom, top, n, moments):
    """Masses ``F(z_j + h/2) - F(z_j - h/2)`` on ``z_j = j h`` (rounding to the nearest node)."""
    h = top / (n - 1)
    edges = h * (np.arange(n + 1) - 0.5)
    edges[0] = 0.0
    F = np.asarray(cdf(edges), dtype=np.float64)
    F[0] = atom
    return SquaredNormLaw(atom, LatticeDensity(Lattice(h, n), np.diff(F)), warn=False, moments=moments)


# -- exact moments ----------------------------------------------------------------------------------

def squared_norm_moments(network, y0=1.0, y0_sq=None, *, tol=1e-10):
    r"""Exact ``E[|x^(l)|^2]`` and ``E[|x^(l)|^4]`` for ``l = 1..L``.

    Positively homogeneous layers (relu, leaky_relu, linear, abs) follow the recursion derived in
    :mod:`sigdist.moments` from any input with known first two moments. A layer with any other activation
    (tanh, erf, gelu, a callable) is exact when it sees a point: with ``h ~ N(0, s)``,
    ``s = sigma_w2 y0 + sigma_b2``,

    .. math:: E z = N\,E\phi(h)^2, \qquad E z^2 = N\,E\phi(h)^4 + N(N-1)\,(E\phi(h)^2)^2,

    by one-dimensional Gauss-Legendre quadrature (:meth:`~sigdist.Activation.squared_log_moments`,
    roundoff accuracy for analytic ``phi``); the homogeneous layers after it continue exactly. A
    non-homogeneous layer whose input is random needs the law of that input, not its moments:
    :math:`E z^k = E_y[f_k(s(y))]` with the one-dimensional quadratures :math:`f_k` averaged over the
    nodes of the previous layer's law (:func:`squared_norm_law` at ``tol``), which is where their
    relative error (about ``tol``) comes from.

    Parameters
    ----------
    network : Network, Layer, list of Layers or list of widths
        Anything :func:`sigdist.as_network` takes; layers with i.i.d. Gaussian weights (a
        non-homogeneous layer 1 needs a point input: no ``y0_sq``).
    y0 : float
        :math:`E|x^{(0)}|^2` (the input squared norm when it is a point).
    y0_sq : float, optional
        :math:`E|x^{(0)}|^4`; defaults to ``y0**2`` (a point input). Must be ``>= y0**2``.
    tol : float
        Accuracy of the laws a non-homogeneous layer with a random input averages over.

    Returns
    -------
    SquaredNormMoments
        ``first_moment``, ``second_moment`` and their logarithms (``log_first_moment``,
        ``log_second_moment``, finite at any depth). Values beyond the float64 range are ``inf``
        and a :class:`~sigdist.SigdistWarning` says from which layer.

    Raises
    ------
    ValueError
        For a non-homogeneous layer 1 with a random input (``y0_sq`` given: its law is unknown), or an
        activation that returns NaN or inf on its Gaussian's support (naming the activation).

    References
    ----------
    Burkholz & Dubatovka (2019), eq. 5 and 6 (Prop. 1 for any ``phi``); the general recursion is
    derived in the docstring of :mod:`sigdist.moments`.

    Examples
    --------
    >>> from sigdist import Network, squared_norm_moments
    >>> m = squared_norm_moments(Network.he([10, 10, 10]), 1.0)
    >>> m.first_moment.round(12).tolist(), m.second_moment.round(12).tolist()  # He: E z = 1, E z^2 = (3/2)^l
    ([1.0, 1.0], [1.5, 2.25])
    """
    network = as_network(network)
    tol = check_tol(tol)
    for layer in network:
        require_gaussian_iid(layer)
    if not network[0].activation.homogeneous and y0_sq is not None:
        raise ValueError(f"network: layer 1 has activation {network[0].activation.name!r}, which is not positively "
                         "homogeneous, and a random input (y0_sq given): its moments average over the input's law, "
                         "not its moments; pass squared_norm_law(network, input_law=...).moment(k)")
    y0 = check_input_norm(y0, "y0")
    if y0_sq is None:
        y0_sq = y0 * y0
    y0_sq = check_input_norm(y0_sq, "y0_sq")
    if y0_sq < y0 * y0 * (1 - 1e-12):
        raise ValueError(f"y0_sq must be >= y0**2 = {y0 * y0:.6g} (a second moment), got {y0_sq!r}")
    first = network[0]
    if not first.activation.homogeneous:
        # phi on the Gaussian's support, by the activation's own check: NaN or inf is refused by name
        first.activation.checked(math.sqrt(first.variance(y0)) * np.linspace(-12.0, 12.0, 241))
        node = MomentChain.point(y0)
    else:
        with np.errstate(divide="ignore"):
            node = MomentChain.given([0.0, math.log(y0) if y0 > 0 else -math.inf,
                                      math.log(y0_sq) if y0_sq > 0 else -math.inf])
    means, seconds = [], []
    # a non-homogeneous layer with a random input averages over the law of its input: the laws of the layers
    # before the last such layer, computed once, each with its own moment chain
    last = max((l for l, layer in enumerate(network, start=1) if l > 1 and not layer.activation.homogeneous),
               default=0)
    laws = _laws(Network(list(network)[: last - 1]), y0, None, tol, "auto", 2048, keep_all=True) if last else []
    for l, layer in enumerate(network, start=1):
        if l > 1 and not layer.activation.homogeneous:
            before = laws[l - 2]
            node = before.moment_chain.then(layer, input_law=before)
        else:
            node = node.then(layer)
        with np.errstate(invalid="ignore", over="ignore"):
            logm, _ = node.log_moments(2)
        if np.any(np.isnan(logm)):
            raise ValueError(f"activation {layer.activation.name!r}: E phi(h)^2 or E phi(h)^4 is not finite under "
                             f"h ~ N(0, s) (s = {first.variance(y0):.6g})")
        means.append(logm[1])
        seconds.append(logm[2])
    means, seconds = np.array(means), np.array(seconds)
    if np.any(seconds > 709.78) or np.any(means > 709.78):
        first = int(np.argmax((seconds > 709.78) | (means > 709.78))) + 1
        warnings.warn(f"squared_norm_moments: E|x^(l)|^2 or E|x^(l)|^4 exceeds the float64 range from layer "
                      f"{first} on (returned as inf); log_first_moment and log_second_moment hold them",
                      SigdistWarning, stacklevel=2)
    with np.errstate(over="ignore"):
        return SquaredNormMoments(np.exp(means), np.exp(seconds), means, seconds)
