r"""The law of the scalar product :math:`\langle x_1, x_2\rangle` after one ReLU layer (Burkholz & Dubatovka Thm. 5).

The ``N`` components :math:`x_{1i} x_{2i}` are i.i.d. with the law of
:class:`~sigdist.relu_pair.ProductLaw`, so the scalar product's law is their ``N``-fold
convolution, computed on a mean-preserving lattice by one FFT power, with an exact atom and
a Richardson estimate of the discretisation error.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import special

from . import _fft
from ._checks import check_integer, check_tol
from ._warnings import SigdistWarning
from .grid import Lattice, LatticeDensity
from ._richardson import richardson_law
from .laws import SquaredNormLaw
from .moments import MomentChain, sum_of_units
from .network import Layer
from .relu_pair import ProductLaw, layer_covariance, product_law

__all__ = ["scalar_product_law"]

_U_NODES, _U_WEIGHTS = np.polynomial.legendre.leggauss(64)


def _product_cells(law: ProductLaw, spacing, n):
    """Mass and first moment of ``x1 x2`` in each lattice cell ``[j h, (j+1) h)``, continuous part only.

    By conditioning on ``h1 = u > 0``: ``h2 | u ~ N(rho s2 u / s1, s2^2 (1 - rho^2))``, so
    ``P(x1 x2 <= t, x1 x2 > 0) = int phi_1(u) P(0 < h2 <= t / u | u) du`` and the cell's first moment is
    ``int phi_1(u) u E[h2; a/u < h2 <= b/u | u] du``; the ``u``-integral is Gauss-Legendre on panels.
    """
    s1, s2 = math.sqrt(law.v11), math.sqrt(law.v22)
    rho = law.rho
    sc = s2 * math.sqrt(max(1 - rho * rho, 0.0))
    panels = np.concatenate([[0.0], s1 * np.geomspace(1e-6, 12.0, 48)])
    u = (0.5 * (panels[:-1] + panels[1:])[:, None] + 0.5 * np.diff(panels)[:, None] * _U_NODES[None, :]).ravel()
    w = (0.5 * np.diff(panels)[:, None] * _U_WEIGHTS[None, :]).ravel()
    w = w * np.exp(-0.5 * (u / s1) ** 2) / (s1 * math.sqrt(2 * math.pi))
    mu = rho * s2 * u / s1
    edges = spacing * np.arange(n + 1)
    lo = np.maximum(edges[:-1][:, None] / u[None, :], 0.0)  # h2 bounds for the cell, per node
    hi = edges[1:][:, None] / u[None, :]
    if sc > 0:
        za, zb = (lo - mu) / sc, (hi - mu) / sc
        mass_u = special.ndtr(zb) - special.ndtr(za)
        # E[h2; a < h2 <= b] = mu P + sc (phi(za) - phi(zb))
        phi = lambda z: np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)  # noqa: E731
        first_u = u * (mu * mass_u + sc * (phi(za) - phi(zb)))
    else:  # rho = +-1: h2 = mu surely
        inside = (mu > lo) & (mu <= hi) & (mu > 0)
        mass_u, first_u = inside.astype(float), u * mu * inside
    masses = mass_u @ w
    first = first_u @ w
    return masses, first


def scalar_product_law(layer, y1, y2, y12, *, lattice_size=4096, tol=1e-3):
    r"""Law of :math:`\langle x_1, x_2\rangle` after one relu layer, given the previous layer's two inputs (Thm. 5).

    With ``V`` of eq. 4 (:func:`~sigdist.relu_pair.layer_covariance`), the ``N = layer.width``
    components :math:`x_{1i} x_{2i}` are i.i.d. with :func:`~sigdist.relu_pair.product_law`; their
    sum is the ``N``-fold convolution, computed like the core's generic route: the product
    law on a lattice (each cell's exact mass split between its ends so that its mean
    is kept), one FFT power, read as a piecewise-linear density. The atom
    :math:`(1 - g(\rho))^N` is exact; the discretisation error is a Richardson
    estimate from lattices of ``n``, ``n/2`` and ``n/4`` points. The moments
    :math:`E\langle x_1, x_2\rangle^k`, ``k <= 2``, are exact (a sum of ``N`` i.i.d. products with
    the closed-form moments of one).

    Parameters
    ----------
    layer : Layer
        A relu layer with i.i.d. Gaussian weights (``sigma_w2``, ``sigma_b2``, ``width`` are read from it).
    y1, y2, y12 : float
        The previous layer's ``|x1|^2``, ``|x2|^2``, ``<x1, x2>``.
    lattice_size : int, optional
        Points of the finest lattice (``>= 64``).
    tol : float, optional
        The accuracy asked for (sup-norm CDF error). The lattice route is second order in its
        spacing: the default lattice reaches about 4e-4 (width 10) to 1e-5; the default ``tol``
        is what it can promise, and a smaller one warns with the accuracy achieved.

    Returns
    -------
    SquaredNormLaw
        A law on ``[0, inf)`` with atom, ``error_estimate`` and exact first two moments.

    Warns
    -----
    SigdistWarning
        When the error estimate exceeds ``tol`` (the message gives the accuracy achieved); a larger
        ``lattice_size`` reduces it.
    """

    if isinstance(layer, Layer) and layer.activation.name != "relu":
        raise ValueError(f"layer must be a relu layer: the product law of Thm. 5 is relu's, got activation "
                         f"{layer.activation.name!r}")
    v11, v22, v12 = layer_covariance(layer, y1, y2, y12)
    width = layer.width
    law = product_law(v11, v22, v12)
    check_integer(lattice_size, "lattice_size", 64)
    tol = check_tol(tol)
    mean = width * law.mean()
    sd = math.sqrt(max(width * law.var(), 0.0))
    top = mean + 12 * sd + 1e-300
    atom_sum = law.atom**width
    with np.errstate(divide="ignore"):
        unit = np.log([1.0, max(law.moment(1), 0.0), max(law.moment(2), 0.0)])
    moments = MomentChain.given(sum_of_units(unit, width))

    def on_lattice(n, top):
        while True:
            h = top / (n - 1)
            cell_mass, cell_first = _product_cells(law, h, n - 1)
            j = np.arange(n - 1)
            with np.errstate(invalid="ignore", divide="ignore"):
                theta = np.clip(np.where(cell_mass > 0, cell_first / np.where(cell_mass > 0, cell_mass, 1)
                                         - j * h, 0.0) / h, 0.0, 1.0)
            single = np.zeros(n)
            single[:-1] += cell_mass * (1 - theta)
            single[1:] += cell_mass * theta
            single[0] += law.atom
            if 1.0 - single.sum() > 1e-12 and top < 1e300:  # one component's own tail is past the end
                top *= 2.0
                continue
            m = _fft.next_fast_len(2 * n)
            conv = _fft.irfft(_fft.rfft(single, m) ** width, m)
            if conv[n:].sum() <= 1e-9 or top > 1e300:
                body = conv[:n].copy()
                body[0] -= atom_sum
                return SquaredNormLaw(atom_sum, LatticeDensity(Lattice(h, n), body), tol=tol, warn=False,
                                      label="<x1, x2>", moments=moments)
            top *= 2.0

    fine = on_lattice(lattice_size, top)
    top = fine.grid.spacing * (lattice_size - 1)
    half, quarter = on_lattice(lattice_size // 2, top), on_lattice(lattice_size // 4, top)
    # the moments travel with the finest lattice law into the estimate's law
    out = richardson_law(fine, half, quarter, tol)
    if out.error_estimate > tol:
        warnings.warn(f"law of <x1, x2>: error estimate {out.error_estimate:.3g} (mass lost {out.mass_lost:.3g}, "
                      f"discretisation {out.discretisation_error:.3g}) exceeds tol={tol:.3g}; raise lattice_size "
                      f"(now {lattice_size}) for more accuracy", SigdistWarning, stacklevel=2)
    return out
