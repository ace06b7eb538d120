r"""The lattice route of the transition operator: Prop. 1 literally, on a lattice in ``z`` (any activation).

The law of :math:`\phi(h)^2` on a lattice (mean-preserving linear binning,
:meth:`sigdist.activations.Activation.squared_lattice`), its :math:`N_l`-fold convolution by FFT, mixed
over the input law node by node. Second-order accurate in the lattice spacing; sigdist keeps it as the
independent cross-check of the log-grid routes (``method="lattice"``; docs/method.md).
"""

from __future__ import annotations

import math

import numpy as np

from . import _fft
from .grid import Lattice, LatticeDensity
from .laws import SquaredNormLaw
from .network import Layer

__all__ = ["apply_lattice"]


# A uniform lattice must reach the right tail it keeps; products of chi-squares are heavy-tailed, so
# keeping 1 - 1e-11 of the mass would leave the bulk a few lattice cells. The route is second order at
# ~1e-4 at best: it drops up to 1e-7 per layer past its end (reported in mass_lost).
_LATTICE_TAIL = 1e-7

def apply_lattice(op, law, tail, history):
    """Prop. 1 by FFT: mix the ``N``-fold convolutions of ``phi(h)^2`` over the input law."""
    layer = op.layer
    act = layer.activation
    n = op.lattice_size
    if isinstance(law, SquaredNormLaw):
        if law.continuous is not None and not isinstance(law.continuous, LatticeDensity):
            raise ValueError("the lattice route needs its input on a lattice (use method='lattice' throughout)")
        ys, ws = _input_nodes(law, layer)
        carried = law.grid_error
    else:
        ys, ws = np.array([float(law)]), np.array([1.0])
        carried = 0.0
    # size the lattice from the output's exact mean and variance (mixed over the input nodes)
    m1, m2 = act.squared_moments_many(layer.sigma_w2 * ys + layer.sigma_b2)
    width = layer.width
    mean = float(ws @ (width * m1))
    second = float(ws @ (width * m2 + width * (width - 1) * m1 * m1))
    sd = math.sqrt(max(second - mean * mean, 0.0))
    top = mean + 12.0 * sd + 1e-300
    while True:
        spacing = top / (n - 1)
        masses, atom, beyond = _mix_columns(act, layer, ys, ws, spacing, n)
        if beyond <= max(tail, _LATTICE_TAIL) or top > 1e300:
            break
        top *= 2.0
    cont = LatticeDensity(Lattice(spacing, n), masses)
    return SquaredNormLaw(atom, cont, discretisation_error=carried, tol=op.tol, warn=False, **history)


def _input_nodes(law: SquaredNormLaw, layer: Layer):
    """Input law as (nodes, weights): the atom at 0 and every lattice node that carries mass.

    Every node is its own column: re-binning the input onto fewer nodes costs an
    error that the Richardson estimate of the propagation cannot see. The
    continuous mass of lattice node 0 lies in ``(0, spacing)``, not at 0. With
    ``sigma_b = 0``, where ``y = 0`` maps to ``z = 0`` surely, it would join the atom;
    there it is placed at ``spacing / 4`` (its conditional mean lies between
    ``spacing / 5`` for a ``z^{-1/2}`` density and ``spacing / 3`` for a flat one), at
    the price of an ``O(c_0 spacing)`` bias of the mean. With ``sigma_b > 0`` node 0
    stays where linear binning put it, which keeps the mean exact.
    """
    cont = law.continuous
    ys, ws = [np.array([0.0])], [np.array([law.atom])]
    if cont is not None:
        points = cont.grid.points.copy()
        if layer.sigma_b2 == 0.0:
            points[0] = 0.25 * cont.grid.spacing
        ys.append(points)
        ws.append(cont.masses)
    ys, ws = np.concatenate(ys), np.concatenate(ws)
    keep = ws > 1e-18 * ws.max()
    return ys[keep], ws[keep]


def _mix_columns(act, layer, ys, ws, spacing, n):
    """Sum over input nodes of weight * (N-fold convolution of the lattice law of phi(h)^2)."""
    m = _fft.next_fast_len(2 * n)
    total = np.zeros(n)
    atom = 0.0
    beyond = 0.0
    cache = {}
    for y, w in zip(ys, ws):
        s = layer.sigma_w2 * y + layer.sigma_b2
        key = float(s)
        if key not in cache:
            single, atom_x, tail_x = act.squared_lattice(s, spacing, n)
            spec = _fft.rfft(single, m)
            conv = _fft.irfft(spec ** layer.width, m)
            atom_sum = atom_x ** layer.width
            body = conv[:n].copy()
            body[0] -= atom_sum
            # mass past the lattice end lands in conv[n:] (it is dropped, hence lost)
            cache[key] = (body, atom_sum, float(conv[n:].sum()) + 1.0 - (1.0 - tail_x) ** layer.width)
        body, atom_sum, over = cache[key]
        total += w * body
        atom += w * atom_sum
        beyond += w * over
    return total, atom, beyond
