r"""Quadrature against a law known by its CDF: product integration on Gauss-Legendre panels in ``log y``.

A layer mixes its kernel over the previous layer's law, :math:`E\,G(Y) = \int G(y)\, dF(y)`, with ``G``
smooth in :math:`u = \log y` but ``F`` (a narrow layer of a saturating or non-monotone activation) with
power singularities at fixed points (erf's ``y = 1, 2, ..., N``; gelu's multiples of its squared minimum).
A rule whose nodes and weights come from the density's samples (the trapezoid rule on the log grid)
converges only like a power of the spacing there. Product integration does not sample the density: on a
panel ``[a, b]`` with the Gauss-Legendre nodes :math:`u_i` and their Lagrange polynomials
:math:`\ell_i`, it integrates the interpolant of ``G`` exactly against ``dF``,

.. math:: w_i = \int_a^b \ell_i(u)\, dF = \ell_i(b)\,(F_b - F_a) - \int_a^b \ell_i'(u)\,(F(u) - F_a)\, du,

by parts, so only values of ``F`` are needed: the Fourier route's series give them anywhere. The last
integral is a tanh-sinh (double-exponential) rule, which converges fast with the algebraic endpoint
singularities that ``F`` has where the panels are split at its singular points. The error is that of
interpolating ``G`` (spectral in the panel's order), plus ``F``'s own error times the total variation
of the interpolant: an error ``delta`` in ``F`` moves ``sum_i w_i G(u_i)`` by at most about ``delta``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.polynomial import legendre

__all__ = ["product_nodes", "mixing_nodes"]

_ORDER = 16
# a panel spans this many of the trapezoid spacings that resolve the kernel: 2 nodes per spacing
_PANEL_SPACINGS = 8.0
_GL_X = legendre.leggauss(_ORDER)[0]
# Lagrange polynomials of the Gauss nodes in the Legendre basis: column i holds l_i's coefficients
_LAGRANGE = np.linalg.inv(legendre.legvander(_GL_X, _ORDER - 1))
# tanh-sinh rule on [-1, 1]: x_k = tanh(pi/2 sinh(k h)); the distance to the nearer end in closed form
_DE_H = 0.1
_DE_K = np.arange(-36, 37) * _DE_H
_DE_GAP = 1.0 / (np.exp(0.5 * math.pi * np.sinh(np.abs(_DE_K))) * np.cosh(0.5 * math.pi * np.sinh(_DE_K)))
_DE_X = np.sign(_DE_K) * (1.0 - _DE_GAP)
_DE_W = _DE_H * 0.5 * math.pi * np.cosh(_DE_K) / np.cosh(0.5 * math.pi * np.sinh(_DE_K)) ** 2


def _lagrange_derivative_at(x):
    """``d l_i / dx`` at the points ``x`` (rows), for the 16 Gauss nodes (columns)."""
    der = legendre.legder(np.eye(_ORDER), axis=0)  # Legendre coefficients of P_m', one column per m
    return legendre.legvander(x, _ORDER - 2) @ (der @ _LAGRANGE)


# d l_i / dx at the tanh-sinh points, and l_i(+1)
_DL = _lagrange_derivative_at(_DE_X)
_L_END = legendre.legvander(np.array([1.0]), _ORDER - 1)[0] @ _LAGRANGE


def product_nodes(cdf, lo, hi, breaks, width, noise=0.0):
    r"""Nodes ``u_i`` (in ``log y``) and weights with :math:`\sum_i w_i G(u_i) \approx \int_{e^{lo}}^{e^{hi}} G\, dF`.

    Parameters
    ----------
    cdf : callable
        ``F(y)`` (vectorised): the CDF of the continuous part, accurate anywhere.
    lo, hi : float
        The range of ``log y`` to cover (``F``'s mass outside it is left out).
    breaks : array_like
        Points ``y`` where ``F`` may be singular: panels are split there.
    width : float
        Largest panel width in ``u``.
    noise : float, optional
        The absolute error of ``cdf``: weights above ``-noise`` are not the rule's failing.

    Returns
    -------
    u, w : ndarray
        16 nodes per panel and their weights (they sum to ``F(e^hi) - F(e^lo)``). A panel across which
        ``F`` rises too steeply for its polynomials (a weight below zero) is halved, up to 8 times, so
        that the weights are those of a positive measure's rule; what stays negative is returned as is.
    """
    with np.errstate(divide="ignore"):
        inner = np.log(np.asarray(breaks, dtype=np.float64))
    inner = np.unique(inner[(inner > lo) & (inner < hi)])
    edges = [lo]
    for b in np.concatenate([inner, [hi]]):
        count = max(1, int(math.ceil((b - edges[-1]) / width)))
        edges.extend(np.linspace(edges[-1], b, count + 1)[1:])
    edges = np.asarray(edges)
    a, b = edges[:-1], edges[1:]
    done_u, done_w = [], []
    for _ in range(9):
        nodes, weights = _panels(cdf, a, b)
        # F's own error (and roundoff in its differences) makes no panel bad
        bad = np.any(weights < -(1e-12 * np.abs(weights).sum(axis=1, keepdims=True) + 1e-15 + noise), axis=1)
        done_u.append(nodes[~bad])
        done_w.append(weights[~bad])
        if not np.any(bad):
            break
        mid = 0.5 * (a[bad] + b[bad])
        a, b = np.concatenate([a[bad], mid]), np.concatenate([mid, b[bad]])
    else:
        done_u.append(nodes[bad])
        done_w.append(weights[bad])
    u, w = np.concatenate(done_u).ravel(), np.concatenate(done_w).ravel()
    order = np.argsort(u, kind="stable")
    return u[order], w[order]


def _panels(cdf, a, b):
    """The 16 nodes and product-integration weights of each panel ``[a_j, b_j]`` (rows)."""
    a, b = a[:, None], b[:, None]
    half = 0.5 * (b - a)
    nodes = (a + b) * 0.5 + half * _GL_X[None, :]
    # F at the tanh-sinh points, each measured from the nearer end (no cancellation near the ends)
    de = np.where(_DE_X[None, :] < 0, a + half * _DE_GAP[None, :], b - half * _DE_GAP[None, :])
    f_de = np.asarray(cdf(np.exp(de)), dtype=np.float64)
    fa = np.asarray(cdf(np.exp(a)), dtype=np.float64)
    fb = np.asarray(cdf(np.exp(b)), dtype=np.float64)
    inner = ((f_de - fa) * _DE_W[None, :]) @ _DL  # per panel: int l_i'(x) (F - F_a) dx
    return nodes, _L_END[None, :] * (fb - fa) - inner


def mixing_nodes(series, atom, grid, spacing):
    """A law's quadrature for the next layer: ``(log_y, weights, dropped)`` with the atom at ``log y = -inf``
    and :func:`product_nodes` on ``grid``'s range against the law's series (:class:`sigdist.series.SeriesMixture`),
    split at its singular points, its panels ``_PANEL_SPACINGS`` times the trapezoid ``spacing`` that resolves
    the next layer's kernel in ``log y``; ``dropped`` is the weight left negative (set to 0)."""
    u, w = product_nodes(series.cdf, grid.start, grid.end, series.singular, _PANEL_SPACINGS * spacing,
                         series.error)
    dropped = float(-w[w < 0].sum())
    return np.concatenate([[-np.inf], u]), np.concatenate([[atom], np.maximum(w, 0.0)]), dropped
