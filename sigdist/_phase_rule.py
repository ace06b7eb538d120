r"""Gauss-Legendre panels in ``h`` for one unit's characteristic function :math:`E\, e^{i t \phi(h)^2}`,
``h ~ N(0, s)``, over a group of variances: placed inside the monotone pieces of :math:`\phi^2` and by the
phase :math:`t\, \phi(h)^2`, so that 16 points a panel integrate it to roundoff (:mod:`sigdist.fourier`)."""

from __future__ import annotations

import math

import numpy as np

from .one_unit import vanishes

GL16_X, GL16_W = np.polynomial.legendre.leggauss(16)
# |g| beyond 9 has Gaussian mass 2.3e-19: panels there need not follow the phase
_G_PHASE = 9.0
_MAX_PANELS = 1 << 17


def gaussian_weights(h, base, s):
    """The weights of the nodes ``h`` for each variance in ``s``: the panels' ``base`` times the density of
    ``N(0, s)`` at ``h``, shape ``(len(s), len(h))``."""
    return base[None, :] * np.exp(-0.5 * h[None, :] ** 2 / s[:, None]) / np.sqrt(2 * math.pi * s)[:, None]


def h_nodes(act, pieces, s_lo, s_hi, t_max):
    """Gauss-Legendre panels in ``h`` inside the monotone pieces of ``phi^2``, placed by the phase: a panel
    spans at most ``0.75 sqrt(s_lo)`` (the narrowest Gaussian of the group) and at most 16 radians of the
    phase ``t_max phi(h)^2`` (where the widest Gaussian carries mass), at which 16 points integrate
    ``e^{i phase}`` to roundoff. Returns the nodes, the panel weights (without the Gaussian) and the pieces
    ``(a, b)`` in ``h`` where ``phi`` vanishes (their Gaussian mass is an atom of ``X``)."""
    zeros = []
    hs, ws = [], []
    reach = _G_PHASE * math.sqrt(s_hi)
    width = 0.75 * math.sqrt(s_lo)
    for a, b, kind in pieces:
        if vanishes(act, a, b, kind):
            zeros.append((a, b))
            continue
        # cost of a stretch of h: its phase swing / 16 (inside the reach) plus its length / width
        x = np.linspace(a, b, 4097)
        swing = np.abs(np.diff(np.asarray(act.phi(x), dtype=np.float64) ** 2)) * t_max / 16.0
        swing[(x[1:] < -reach) | (x[:-1] > reach)] = 0.0
        cost = np.concatenate([[0.0], np.cumsum(swing + np.diff(x) / width)])
        count = int(min(_MAX_PANELS, max(2, math.ceil(cost[-1]))))
        edges = np.interp(np.linspace(0.0, cost[-1], count + 1), cost, x)
        edges[0], edges[-1] = a, b
        lo, hi = edges[:-1, None], edges[1:, None]
        hs.append((0.5 * (lo + hi) + 0.5 * (hi - lo) * GL16_X[None, :]).ravel())
        ws.append((0.5 * (hi - lo) * GL16_W[None, :]).ravel())
    return np.concatenate(hs), np.concatenate(ws), zeros


_GL24_X, _GL24_W = np.polynomial.legendre.leggauss(24)


def finer_rule(h, base):
    """The 24-point Gauss-Legendre rules on the panels of a 16-point composite rule ``(h, base)``."""
    panels = h.size // 16
    hp = h.reshape(panels, 16)
    bp = base.reshape(panels, 16)
    half = bp.sum(axis=1) / 2.0  # the panel's half-width (its weights sum to its width)
    mid = 0.5 * (hp[:, 0] + hp[:, -1])
    nodes = mid[:, None] + half[:, None] * _GL24_X[None, :]
    return nodes.ravel(), (half[:, None] * _GL24_W[None, :]).ravel()
