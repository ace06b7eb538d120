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

from .grid import Lattice, LatticeDensity, LogGrid, LogGridDensity
from .laws import SigdistWarning, SquaredNormLaw
from .moments import MomentChain
from .network import Layer, Network, check_input_norm, check_integer, check_tol
from .operator import TransitionOperator

__all__ = ["squared_norm_law", "layer_laws"]


def _as_network(network):
    if isinstance(network, Network):
        return network
    if isinstance(network, Layer):
        return Network([network])
    if isinstance(network, (list, tuple)):
        return Network(network)
    raise ValueError(f"network must be a sigdist.Network (or a Layer / list of Layers), got {type(network).__name__}")


def layer_laws(network, y0=1.0, *, input_law=None, tol=1e-8, method="auto", lattice_size=2048):
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
        ``"auto"`` uses the exact log-grid routes when every layer is relu,
        linear or abs, the lattice route otherwise.
    lattice_size : int
        Lattice points per layer for the lattice route.

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
    The exact routes solve :math:`p_l = T_l p_{l-1}` (eq. 1) with the kernel of
    eq. 7 by the trapezoid rule in ``u = log z``; see :mod:`sigdist.operator`.
    The lattice route's discretisation error is estimated by repeating the
    computation on lattices two and four times coarser (Richardson with the
    observed order).

    References
    ----------
    Burkholz & Dubatovka (2019), Prop. 1 (eq. 1), Prop. 4 (eq. 7).
    """
    network = _as_network(network)
    tol = check_tol(tol)
    if method not in ("auto", "exact", "lattice"):
        raise ValueError(f"method must be 'auto', 'exact' or 'lattice', got {method!r}")
    check_integer(lattice_size, "lattice_size", 64)  # the error estimate reruns at n/2 and n/4
    if input_law is None:
        y0 = check_input_norm(y0, "y0")
    exact = all(layer.activation.chi2_kind is not None for layer in network)
    if method == "exact" and not exact:
        bad = sorted({l.activation.name for l in network if l.activation.chi2_kind is None})
        raise ValueError(f"method='exact' needs relu, linear or abs layers; got {', '.join(bad)}")
    use_lattice = method == "lattice" or not exact
    if use_lattice:
        runs = [_propagate_lattice(network, y0, input_law, tol, lattice_size // k) for k in (1, 2, 4)]
        laws = [_with_richardson(*levels, tol) for levels in zip(*runs)]
        for before, law in zip(laws[:-1], laws[1:]):
            if law._moments.source is not None:  # averages over the previous law carry its full error
                law._moments.source = before._quadrature_nodes()
    else:
        laws = _propagate_log(network, y0, input_law, tol)
    for l, law in enumerate(laws, start=1):
        law.label = f"|x^({l})|^2"
    last = laws[-1]
    if last.error_estimate > tol:
        warnings.warn(
            f"law of {last.label}: error estimate {last.error_estimate:.3g} (mass lost {last.mass_lost:.3g}, "
            f"discretisation {last.discretisation_error:.3g}) exceeds tol={tol:.3g}", SigdistWarning, stacklevel=2)
    return laws


def squared_norm_law(network, y0=1.0, *, input_law=None, tol=1e-8, method="auto", lattice_size=2048):
    r"""Law of :math:`|x^{(L)}|^2` at the last layer (see :func:`layer_laws` for the parameters).

    Examples
    --------
    >>> from sigdist import Network, squared_norm_law
    >>> law = squared_norm_law(Network.constant(200, 9, 2 / 200), y0=1.0)
    >>> round(law.mean(), 8), law.atom < 1e-50
    (1.0, True)
    """
    return layer_laws(network, y0, input_law=input_law, tol=tol, method=method, lattice_size=lattice_size)[-1]


# -- exact log-grid routes ------------------------------------------------------------------------

def _propagate_log(network, y0, input_law, tol):
    depth = network.depth
    shared = {}  # one operator per distinct layer: its kernel ranges are computed once
    ops = []
    for layer in network:
        if layer not in shared:
            shared[layer] = TransitionOperator(layer, tol=tol)
        ops.append(shared[layer])
    spacing = min(op.required_spacing() for op in ops)
    for op in ops:
        op.spacing = spacing
    tail = tol * 1e-3 / depth
    start = y0 if input_law is None else _log_input(input_law, spacing, tol * 1e-3)
    return _push(ops, start, tail)


def _push(ops, law, tail):
    """``p_l = T_l p_{l-1}`` for every operator in turn; the input is a law or a point ``y0``."""
    laws = []
    for op in ops:
        law = op.apply(law, tail=tail)
        laws.append(law)
    return laws


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

def _propagate_lattice(network, y0, input_law, tol, lattice_size):
    ops = [TransitionOperator(layer, method="lattice", tol=tol, lattice_size=lattice_size) for layer in network]
    tail = tol * 1e-3 / network.depth
    start = y0 if input_law is None else _lattice_input(input_law, lattice_size, tol * 1e-3)
    return _push(ops, start, tail)


def _lattice_input(input_law, n, eps):
    if isinstance(input_law, SquaredNormLaw):
        if input_law.continuous is not None and not isinstance(input_law.continuous, LatticeDensity):
            # read a log-grid law onto a lattice through its CDF, up to its grid's end
            out = _lattice_from_cdf(input_law.cdf, input_law.atom, input_law._grid_top(), n)
            out._moments = MomentChain.from_input(input_law)
            return out
        return input_law
    dist = _check_frozen(input_law)
    out = _lattice_from_cdf(dist.cdf, float(dist.cdf(0.0)), float(dist.isf(eps)), n)
    out._moments = MomentChain.from_input(dist)
    return out


def _lattice_from_cdf(cdf, atom, top, n):
    """Masses ``F(z_j + h/2) - F(z_j - h/2)`` on ``z_j = j h`` (rounding to the nearest node)."""
    h = top / (n - 1)
    edges = h * (np.arange(n + 1) - 0.5)
    edges[0] = 0.0
    F = np.asarray(cdf(edges), dtype=np.float64)
    F[0] = atom
    return SquaredNormLaw(atom, LatticeDensity(Lattice(h, n), np.diff(F)), warn=False)


def _with_richardson(fine: SquaredNormLaw, half: SquaredNormLaw, quarter: SquaredNormLaw, tol):
    """Attach a Richardson estimate of the CDF error to the finest of three lattice laws.

    With ``d1 = max |F_n - F_{n/2}|`` and ``d2 = max |F_{n/2} - F_{n/4}|`` the observed
    order is ``p = log2(d2 / d1)`` (2 in the asymptotic regime); the estimate is
    ``d1 / (2^p - 1)`` with ``p`` clipped to ``[1, 2]``, so a lattice still too coarse
    for its law (``p < 2``) is not credited with second-order convergence.
    """
    z = fine.continuous.grid.points
    d1 = float(np.max(np.abs(fine.cdf(z) - half.cdf(z))))
    d2 = float(np.max(np.abs(half.cdf(z) - quarter.cdf(z))))
    order = 2.0 if d1 <= 0 or d2 <= 0 else min(max(math.log2(d2 / d1), 0.15), 2.0)
    estimate = d1 / (2.0**order - 1.0)
    return SquaredNormLaw(fine.atom, fine.continuous, discretisation_error=fine.discretisation_error + estimate,
                          moments=fine._moments,
                          tol=tol, warn=False)
