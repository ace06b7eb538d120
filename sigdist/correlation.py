r"""Two inputs through one ReLU layer, exactly (Burkholz & Dubatovka Prop. 2, Thm. 5).

Given the previous layer, the pre-activations ``(h1, h2)`` of one unit for two
inputs are bivariate normal with covariance ``V`` (eq. 4),
:math:`v_{ij} = \sigma_w^2 \langle x_i, x_j\rangle + \sigma_b^2`, and correlation
:math:`\rho = v_{12}/\sqrt{v_{11} v_{22}}`. Everything here is a closed form in ``V``:

* :math:`g(\rho) = P(h_1 > 0, h_2 > 0) = \tfrac14 + \arcsin(\rho)/(2\pi)` (Sheppard's
  formula; the paper's integral, with :math:`g(\pm 1)` exact);
* :math:`E[x_1 x_2] = \sqrt{v_{11} v_{22}}\,\big(\sqrt{1-\rho^2} + (\pi - \arccos\rho)\rho\big)/(2\pi)`
  (the first arc-cosine kernel, equal to eq. 10's :math:`g\rho + \sqrt{1-\rho^2}/(2\pi)`);
* the correlation after the ReLU (eq. 9);
* the law of :math:`x_1 x_2 = \mathrm{relu}(h_1)\mathrm{relu}(h_2)`: an atom
  :math:`1 - g(\rho)` at 0 and, for ``t > 0``,

  .. math:: f(t) = \frac{1}{2\pi\sqrt{\det V}}\, \exp\Big(\frac{v_{12}\, t}{\det V}\Big)\,
            K_0\Big(\frac{\sqrt{v_{11} v_{22}}\; t}{\det V}\Big),

  half of the density of the product of a bivariate normal pair on ``t > 0`` (the
  quadrants ``(+, +)`` and ``(-, -)`` contribute equally). The printed :math:`f_{prod}`
  has :math:`v_{12} t / (2 \det V)` in the exponential (docs/errata.md).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import integrate, optimize, special

from . import _fft
from .grid import Lattice, LatticeDensity
from ._warnings import SigdistWarning
from .laws import SquaredNormLaw, richardson_law
from .moments import MomentChain, sum_of_units
from ._checks import check_input_norm, check_integer, check_seed, check_tol, check_width
from .network import Layer, Network

__all__ = ["orthant_probability", "g", "correlation_map", "mean_scalar_product", "ProductLaw", "product_law",
           "scalar_product_law", "relu_moment", "mean_cosine", "c_map", "PairChain", "pair_laws",
           "mean_field_cosines", "CosineLaw", "cosine_law", "shared_pair_laws", "EQ10_APPROXIMATION_WORST_ERROR"]

_RHO_SLACK = 1e-12  # |rho| may exceed 1 by rounding; beyond this it is an error


def _check_rho(rho):
    r = np.asarray(rho, dtype=np.float64)
    if np.any(np.isnan(r)) or np.any(np.abs(r) > 1 + _RHO_SLACK):
        raise ValueError(f"rho must lie in [-1, 1], got {rho!r}")
    return np.clip(r, -1.0, 1.0)


def _check_covariance(v11, v22, v12):
    vals = []
    for name, v in (("v11", v11), ("v22", v22), ("v12", v12)):
        if isinstance(v, (bool, str)):
            raise ValueError(f"{name} must be a finite number, got {v!r}")
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a finite number, got {v!r}") from None
        if not math.isfinite(x):
            raise ValueError(f"{name} must be a finite number, got {v!r}")
        vals.append(x)
    v11, v22, v12 = vals
    if v11 <= 0 or v22 <= 0:
        raise ValueError(f"v11 and v22 must be > 0 (variances), got v11={v11!r}, v22={v22!r}")
    scale = math.sqrt(v11) * math.sqrt(v22)  # not sqrt(v11 v22): that over/underflows first
    if abs(v12) > scale * (1 + _RHO_SLACK):
        raise ValueError(f"V must be positive semi-definite: |v12| <= sqrt(v11 v22) = {scale:.6g}, got v12={v12!r}")
    return v11, v22, max(-scale, min(scale, v12))


def orthant_probability(rho):
    r""":math:`g(\rho) = P(h_1 > 0, h_2 > 0) = 1/4 + \arcsin(\rho) / (2\pi)`; ``g(-1) = 0``, ``g(1) = 1/2``."""
    r = _check_rho(rho)
    return (0.25 + np.arcsin(r) / (2 * math.pi))[()]


def _kernel_k1(r):
    """``(sqrt(1 - r^2) + (pi - arccos r) r) / (2 pi)`` = ``E[relu(h1) relu(h2)]`` for unit variances."""
    return (np.sqrt(np.maximum(1 - r * r, 0.0)) + (math.pi - np.arccos(r)) * r) / (2 * math.pi)


#: the paper's name for the orthant probability (Thm. 5)
g = orthant_probability


def correlation_map(rho):
    r"""Correlation of ``relu(h1)``, ``relu(h2)`` given the pre-activation correlation (eq. 9).

    .. math:: \mathrm{Cor}(x_1, x_2) = \frac{\sqrt{1-\rho^2} - 1 + 2\pi\rho\, g(\rho)}{\pi - 1}

    Exact at the endpoints: 1 at ``rho = 1``, ``-1/(pi - 1)`` at ``rho = -1``.
    """
    r = _check_rho(rho)
    return ((2 * math.pi * _kernel_k1(r) - 1.0) / (math.pi - 1.0))[()]


def mean_scalar_product(v11, v22, v12, width):
    r""":math:`E\langle x_1, x_2\rangle = N \sqrt{v_{11} v_{22}}\,(g(\rho)\rho + \sqrt{1-\rho^2}/(2\pi))` (eq. 10)."""

    v11, v22, v12 = _check_covariance(v11, v22, v12)
    width = check_width(width)
    scale = math.sqrt(v11) * math.sqrt(v22)
    return width * scale * float(_kernel_k1(np.float64(v12 / scale)))


def _eq10_worst_error():
    # max over rho of |(g rho + sqrt(1 - rho^2) / (2 pi)) - (rho + 1) / 4|, the printed approximation's error
    err = lambda r: -abs(float(_kernel_k1(np.float64(r))) - (r + 1) / 4)  # noqa: E731
    res = optimize.minimize_scalar(err, bounds=(-1, 1), method="bounded", options={"xatol": 1e-12})
    return float(res.x), -float(res.fun)


#: (rho, error): where the printed "~ N sqrt(v11 v22)(rho + 1)/4" of eq. 10 is worst, per unit N sqrt(v11 v22)
EQ10_APPROXIMATION_WORST_ERROR = _eq10_worst_error()


class ProductLaw:
    """Law of one component's product ``x1 x2 = relu(h1) relu(h2)``: atom ``1 - g(rho)`` at 0 plus a density.

    Frozen-distribution methods ``pdf``, ``cdf``, ``sf``, ``mean``, ``var``, ``moment`` (orders 1, 2), and ``atom``.
    """

    def __init__(self, v11, v22, v12):
        self.v11, self.v22, self.v12 = _check_covariance(v11, v22, v12)
        scale = math.sqrt(self.v11) * math.sqrt(self.v22)
        self.rho = self.v12 / scale
        self.det = max(self.v11 * self.v22 - self.v12 * self.v12, 0.0)
        self.atom = 1.0 - float(orthant_probability(self.rho))
        self._scale = scale

    def pdf(self, t):
        t = np.asarray(t, dtype=np.float64)
        out = np.zeros(t.shape)
        pos = t > 0
        if self.det <= 1e-14 * self._scale**2:
            if self.rho > 0:  # rho = 1: x1 x2 = scale relu(g)^2, a half chi2_1 scaled by sqrt(v11 v22)
                u = t[pos] / self._scale
                out[pos] = 0.5 * np.exp(-0.5 * u) / np.sqrt(2 * math.pi * u) / self._scale
            return out[()]
        a = self._scale / self.det
        b = self.v12 / self.det
        tp = t[pos]
        # K0(a t) exp(b t) = k0e(a t) exp((b - a) t) with b - a <= 0: no overflow
        out[pos] = special.k0e(a * tp) * np.exp((b - a) * tp) / (2 * math.pi * math.sqrt(self.det))
        return out[()]

    def _cont_integral(self, lo, hi):
        f = lambda s: float(self.pdf(s))  # noqa: E731
        return integrate.quad(f, lo, hi, limit=400, epsabs=1e-15, epsrel=1e-12)[0]

    def cdf(self, t):
        """``P(x1 x2 <= t)`` (atom included), by adaptive quadrature of the density."""
        shape = np.shape(t)
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        out = np.empty(t.shape)
        for i, x in enumerate(t.ravel()):
            if x < 0:
                out.flat[i] = 0.0
            elif x == 0:
                out.flat[i] = self.atom
            else:
                # the log singularity of K0 at 0 and the scale det V / sqrt(v11 v22) set the breakpoints
                knot = min(x, self.det / self._scale) if self.det > 0 else min(x, self._scale)
                out.flat[i] = self.atom + self._cont_integral(0.0, knot) + (
                    self._cont_integral(knot, x) if x > knot else 0.0)
        return np.minimum(out, 1.0).reshape(shape)[()]

    def sf(self, t):
        return (1.0 - np.asarray(self.cdf(t)))[()]

    def moment(self, order):
        """``E[(x1 x2)^order]`` for order 1 (eq. 10 per unit) and 2."""
        if order == 1:
            return self._scale * float(_kernel_k1(np.float64(self.rho)))
        if order == 2:
            # E[relu(h1)^2 relu(h2)^2] = v11 v22 ((1 + 2 r^2)(pi - arccos r) + 3 r sqrt(1 - r^2)) / (2 pi)
            r = self.rho
            return self.v11 * self.v22 * ((1 + 2 * r * r) * (math.pi - math.acos(r))
                                          + 3 * r * math.sqrt(max(1 - r * r, 0.0))) / (2 * math.pi)
        raise ValueError(f"order must be 1 or 2, got {order!r}")

    def mean(self):
        return self.moment(1)

    def var(self):
        return self.moment(2) - self.moment(1) ** 2


def product_law(v11, v22, v12):
    """The law of ``relu(h1) relu(h2)`` for ``(h1, h2) ~ N(0, V)`` (Thm. 5, derived; see the module docstring)."""
    return ProductLaw(v11, v22, v12)


# -- the scalar product over a layer: N-fold convolution of the product law ---------------------------

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


def scalar_product_law(v11, v22, v12, width, *, lattice_size=4096, tol=1e-6):
    r"""Law of :math:`\langle x_1, x_2\rangle` over one layer of ``width`` units, given ``V`` (Thm. 5).

    The ``N`` components ``x_{1i} x_{2i}`` are i.i.d. with :func:`product_law`; their sum
    is the ``N``-fold convolution, computed like the core's generic route: the product
    law on a lattice (each cell's exact mass split between its ends so that its mean
    is kept), one FFT power, read as a piecewise-linear density. The atom
    :math:`(1 - g(\rho))^N` is exact; the discretisation error is a Richardson
    estimate from lattices of ``n``, ``n/2`` and ``n/4`` points.

    Returns
    -------
    SquaredNormLaw
        (a law on ``[0, inf)`` with atom, ``pdf``, ``cdf``, ``ppf``, moments and error estimate).

    Warns
    -----
    SigdistWarning
        When the error estimate exceeds ``tol`` (the message gives the accuracy achieved); a larger
        ``lattice_size`` reduces it.
    """

    width = check_width(width)
    law = product_law(v11, v22, v12)
    check_integer(lattice_size, "lattice_size", 64)
    tol = check_tol(tol)
    mean = width * law.mean()
    sd = math.sqrt(max(width * law.var(), 0.0))
    top = mean + 12 * sd + 1e-300
    atom_sum = law.atom**width

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
                                      label="<x1, x2>")
            top *= 2.0

    fine = on_lattice(lattice_size, top)
    top = fine.grid.spacing * (lattice_size - 1)
    half, quarter = on_lattice(lattice_size // 2, top), on_lattice(lattice_size // 4, top)
    out = richardson_law(fine, half, quarter, tol)
    out.label = "<x1, x2>"
    # E[<x1, x2>^k], k <= 2, exactly: a sum of N i.i.d. products with the closed-form moments of one
    with np.errstate(divide="ignore"):
        unit = np.log([1.0, max(law.moment(1), 0.0), max(law.moment(2), 0.0)])
    out._moments = MomentChain.given(sum_of_units(unit, width))
    if out.error_estimate > tol:
        warnings.warn(f"law of <x1, x2>: error estimate {out.error_estimate:.3g} (mass lost {out.mass_lost:.3g}, "
                      f"discretisation {out.discretisation_error:.3g}) exceeds tol={tol:.3g}; raise lattice_size "
                      f"(now {lattice_size}) for more accuracy", SigdistWarning, stacklevel=2)
    return out


# -- mixed moments of (x1, x2) = (relu(h1), relu(h2)) ----------------------------------------------

_M_NODES, _M_WEIGHTS = np.polynomial.legendre.leggauss(96)


def relu_moment(p, q, v11, v22, v12):
    r""":math:`E[\mathrm{relu}(h_1)^p\, \mathrm{relu}(h_2)^q]` for :math:`(h_1, h_2) \sim N(0, V)`, ``q in {0, 1, 2}``.

    Conditioning on :math:`h_1 = u`: :math:`h_2 \mid u \sim N(\rho s_2 u / s_1, s_2^2(1 - \rho^2))`, and
    :math:`E[\mathrm{relu}(Y)] = m\Phi(m/s) + s\varphi(m/s)`,
    :math:`E[\mathrm{relu}(Y)^2] = (m^2 + s^2)\Phi(m/s) + m s \varphi(m/s)` close the inner integral; the
    outer one is Gauss–Legendre on ``[0, 14 s_1]`` (relative accuracy ~1e-14), or adaptive quadrature
    where ``1 - rho^2 < 1e-2`` and the inner integrand concentrates near ``u = 0``. With ``p = 0`` the
    integral still runs over ``h_1 > 0``: it is :math:`E[\mathrm{relu}(h_2)^q; h_1 > 0]`.
    """
    v11, v22, v12 = _check_covariance(v11, v22, v12)
    if q not in (0, 1, 2) or p < 0:
        raise ValueError(f"need p >= 0 and q in (0, 1, 2), got p={p!r}, q={q!r}")
    s1, s2 = math.sqrt(v11), math.sqrt(v22)
    rho = v12 / (s1 * s2)
    half = 7.0 * s1
    u = half * (1 + _M_NODES)
    w = half * _M_WEIGHTS * np.exp(-0.5 * (u / s1) ** 2) / (s1 * math.sqrt(2 * math.pi))
    m = rho * s2 * u / s1
    s = s2 * math.sqrt(max(1 - rho * rho, 0.0))
    if q == 0:
        inner = np.ones_like(u)
    elif s == 0:
        inner = np.maximum(m, 0.0) ** q
    else:
        z = m / s
        Phi, phi = special.ndtr(z), np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        inner = m * Phi + s * phi if q == 1 else (m * m + s * s) * Phi + m * s * phi
    if 1 - rho * rho >= 1e-2 or q == 0 or s == 0:
        return float(np.sum(w * u**p * inner))

    def integrand(x):
        mm = rho * s2 * x / s1
        z = mm / s
        Phi, phi = special.ndtr(z), math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        e = mm * Phi + s * phi if q == 1 else (mm * mm + s * s) * Phi + mm * s * phi
        return x**p * e * math.exp(-0.5 * (x / s1) ** 2) / (s1 * math.sqrt(2 * math.pi))

    knot = min(14 * s1, 10 * s / max(abs(rho) * s2 / s1, 1e-300))  # where the inner mean turns
    return sum(integrate.quad(integrand, a, b, epsabs=0.0, epsrel=1e-12, limit=400)[0]
               for a, b in ((0.0, knot), (knot, 14 * s1)) if b > a)


def _per_unit_moments(v11, v22, v12):
    """Means and covariance of (a, b, c) = (x1^2, x2^2, x1 x2) for one unit."""
    M = lambda p, q: relu_moment(p, q, v11, v22, v12)  # noqa: E731
    mean = np.array([v11 / 2, v22 / 2, M(1, 1)])
    second = np.array([[1.5 * v11**2, M(2, 2), M(3, 1)],
                       [M(2, 2), 1.5 * v22**2, _swap_moment(v11, v22, v12)],
                       [M(3, 1), _swap_moment(v11, v22, v12), M(2, 2)]])
    return mean, second - np.outer(mean, mean)


def _swap_moment(v11, v22, v12):
    """``E[x1 x2^3]`` (the roles of the inputs swapped)."""
    return relu_moment(3, 1, v22, v11, v12)


# -- the cosine after one layer ------------------------------------------------------------------

def _layer_covariance(norm1, norm2, dot, layer):

    if not isinstance(layer, Layer):
        raise ValueError(f"layer must be a sigdist.Layer, got {type(layer).__name__}")
    norm1, norm2 = check_input_norm(norm1, "norm1"), check_input_norm(norm2, "norm2")
    dot = float(dot)
    if not math.isfinite(dot) or dot * dot > norm1 * norm2 * (1 + 1e-12) + 1e-300:
        raise ValueError(f"dot must satisfy dot^2 <= norm1 norm2 (Cauchy-Schwarz), got dot={dot!r} with "
                         f"norm1={norm1!r}, norm2={norm2!r}")
    if layer.activation.name != "relu" or not layer.is_gaussian_iid:
        raise ValueError("the two-input laws are derived for relu layers with i.i.d. Gaussian weights")
    w, b = layer.sigma_w2, layer.sigma_b2
    return w * norm1 + b, w * norm2 + b, w * dot + b


def mean_cosine(norm1, norm2, dot, layer):
    r"""Mean cosine similarity after one layer: the infinite-width value and its ``1/N`` correction.

    With per-unit ``(a, b, c) = (x_1^2, x_2^2, x_1 x_2)`` of means :math:`\mu` and covariance
    :math:`\Sigma`, the cosine is :math:`f(\bar a, \bar b, \bar c) = \bar c / \sqrt{\bar a \bar b}` of the
    unit averages, and the delta method gives
    :math:`E[\cos] = f(\mu) + \mathrm{tr}(H_f(\mu)\,\Sigma) / (2N) + O(N^{-2})`, with
    :math:`f(\mu) = 2 k_1(\rho)`, the c-map of mean-field theory.

    Returns
    -------
    infinite_width, first_order : float
        :math:`f(\mu)` and :math:`f(\mu) + \mathrm{tr}(H\Sigma)/(2N)`.
    """
    v11, v22, v12 = _layer_covariance(norm1, norm2, dot, layer)
    mu, cov = _per_unit_moments(v11, v22, v12)
    a, b, c = mu
    r = 1.0 / math.sqrt(a * b)
    H = r * np.array([[0.75 * c / a**2, 0.25 * c / (a * b), -0.5 / a],
                      [0.25 * c / (a * b), 0.75 * c / b**2, -0.5 / b],
                      [-0.5 / a, -0.5 / b, 0.0]])
    base = c * r
    return base, base + float(np.sum(H * cov)) / (2 * layer.width)


def c_map(rho):
    r"""Infinite-width cosine after a relu layer, :math:`(\sqrt{1-\rho^2} + (\pi - \arccos\rho)\rho)/\pi`.

    ``rho`` is the pre-activation correlation (the input cosine when :math:`\sigma_b = 0`).
    """
    r = _check_rho(rho)
    return (2.0 * _kernel_k1(r))[()]


# -- many layers: the pair chain (|x1|^2, |x2|^2, <x1, x2>) by the exact reduced sampler -------------

def _check_pair_state(n1, n2, dot, names, n_samples):
    """Validate ``(|u|^2, |v|^2, <u, v>)`` (Cauchy-Schwarz) and a sample count; return the floats."""

    a0, b0 = check_input_norm(n1, names[0]), check_input_norm(n2, names[1])
    c0 = float(dot)
    if not math.isfinite(c0) or c0 * c0 > a0 * b0 * (1 + 1e-12) + 1e-300:
        raise ValueError(f"{names[2]} must satisfy {names[2]}^2 <= {names[0]} {names[1]}, got {dot!r}")
    check_integer(n_samples, "n_samples", 2)
    return a0, b0, c0


def _correlated_pair(v11, v22, v12, g1, g2):
    """``(h1, h2)`` with covariance ``V`` (per sample) from independent ``g1``, ``g2`` (rows = samples)."""
    s1 = np.sqrt(v11)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(s1 > 0, v12 / np.where(s1 > 0, s1, 1.0), 0.0)
    rest = np.sqrt(np.maximum(v22 - slope**2, 0.0))
    return s1[:, None] * g1, slope[:, None] * g1 + rest[:, None] * g2


class PairChain:
    """Samples of the pair state per layer, from :func:`pair_laws`.

    Attributes
    ----------
    norms1, norms2, dots, cosines : ndarray, shape (n_samples, L)
        ``cosines`` is NaN where a signal is exactly 0 (relu: every unit inactive).
    """

    def __init__(self, norms1, norms2, dots):
        self.norms1, self.norms2, self.dots = norms1, norms2, dots
        with np.errstate(invalid="ignore", divide="ignore"):
            self.cosines = dots / np.sqrt(norms1 * norms2)

    def _mean_se(self, values):
        ok = np.isfinite(values)
        n = ok.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):  # a layer without a defined value: NaN, documented
            mean = np.nansum(np.where(ok, values, 0.0), axis=0) / n
            var = np.nansum(np.where(ok, (values - mean) ** 2, 0.0), axis=0) / np.maximum(n - 1, 1)
            return mean, np.sqrt(var / n)

    @property
    def cosine_mean(self):
        """Per-layer mean cosine (over samples where both signals are nonzero) and its standard error.

        NaN at a layer where no sample has both signals nonzero (relu with every unit inactive).
        """
        return self._mean_se(self.cosines)

    @property
    def dot_mean(self):
        return self._mean_se(self.dots)

    def cosine_quantiles(self, q):
        return np.nanquantile(self.cosines, q, axis=0)


def pair_laws(network, x1_sq, x2_sq, dot, *, n_samples=100_000, seed=None, chunk=20_000):
    r"""Propagate two inputs' pair state through a network by the exact reduced sampler (Prop. 2).

    Given ``(|x1|^2, |x2|^2, <x1, x2>)`` of a layer, the next layer's pre-activations are
    ``N`` i.i.d. pairs :math:`N(0, V)`, :math:`V = \sigma_w^2 G + \sigma_b^2` (eq. 4), so each
    layer costs ``2N`` normals per sample, with no approximation. Any activation.

    Returns
    -------
    PairChain
        Samples per layer, with means and standard errors of cosines and scalar products.
    """

    if not isinstance(network, Network):
        raise ValueError(f"network must be a sigdist.Network, got {type(network).__name__}")
    for layer in network:
        if not layer.is_gaussian_iid:
            raise ValueError("pair_laws needs i.i.d. Gaussian layers (use sigdist.montecarlo.simulate otherwise)")
    a0, b0, c0 = _check_pair_state(x1_sq, x2_sq, dot, ("x1_sq", "x2_sq", "dot"), n_samples)
    if network[0].sigma_b2 == 0:
        for value, name in ((a0, "x1_sq"), (b0, "x2_sq")):
            if value == 0:  # the signal stays 0 through a layer without bias: every cosine would be 0/0
                raise ValueError(f"{name} must be > 0 when the first layer has sigma_b2 = 0 (a zero signal stays "
                                 f"zero and its cosine is undefined), got {value!r}")
    check_integer(chunk, "chunk")
    rng = np.random.default_rng(check_seed(seed))
    depth = network.depth
    out = [np.empty((n_samples, depth)) for _ in range(3)]
    for start in range(0, n_samples, chunk):
        m = min(chunk, n_samples - start)
        a, b, c = np.full(m, a0), np.full(m, b0), np.full(m, c0)
        for l, layer in enumerate(network):
            v11 = layer.sigma_w2 * a + layer.sigma_b2
            v22 = layer.sigma_w2 * b + layer.sigma_b2
            v12 = layer.sigma_w2 * c + layer.sigma_b2
            g = rng.standard_normal((2, m, layer.width))
            h1, h2 = _correlated_pair(v11, v22, v12, g[0], g[1])
            x1, x2 = layer.activation.checked(h1), layer.activation.checked(h2)
            a, b, c = (x1 * x1).sum(1), (x2 * x2).sum(1), (x1 * x2).sum(1)
            out[0][start:start + m, l], out[1][start:start + m, l], out[2][start:start + m, l] = a, b, c
    return PairChain(*out)


def mean_field_cosines(network, x1_sq, x2_sq, dot):
    """Infinite-width (mean-field) recursion of the mean pair state; returns the cosine per layer (relu)."""

    if not isinstance(network, Network):
        raise ValueError(f"network must be a sigdist.Network, got {type(network).__name__}")
    a, b, c = _check_pair_state(x1_sq, x2_sq, dot, ("x1_sq", "x2_sq", "dot"), 2)
    if a == 0 or b == 0:
        raise ValueError("x1_sq and x2_sq must be > 0: the cosine of a zero signal is undefined")
    out = []
    for layer in network:
        v11, v22, v12 = _layer_covariance(a, b, c, layer)
        scale = math.sqrt(v11 * v22)
        a, b, c = layer.width * v11 / 2, layer.width * v22 / 2, layer.width * scale * float(
            _kernel_k1(np.float64(np.clip(v12 / scale, -1, 1))))
        out.append(c / math.sqrt(a * b))
    return np.array(out)


class CosineLaw:
    """Law of the cosine similarity after one layer, from the exact reduced sampler, with its normal approximation.

    Attributes
    ----------
    samples : ndarray
        Cosines (samples where a signal is exactly 0 are dropped; ``p_undefined`` is their share).
    mean, standard_error : float
    dkw_band : float
        Half-width of the 99 % Dvoretzky-Kiefer-Wolfowitz band of the empirical CDF.
    approx_mean, approx_sd : float
        Delta-method normal approximation: mean with the ``1/N`` correction, sd from the per-unit covariance.
    approx_error : float
        Measured sup-distance between the normal approximation's CDF and the empirical one.
    """

    def __init__(self, samples, p_undefined, approx_mean, approx_sd):
        self.samples = np.sort(samples)
        self.p_undefined = float(p_undefined)
        n = self.samples.size
        self.mean = float(self.samples.mean())
        self.standard_error = float(self.samples.std(ddof=1) / math.sqrt(n))
        self.dkw_band = math.sqrt(math.log(2 / 0.01) / (2 * n))
        self.approx_mean, self.approx_sd = float(approx_mean), float(approx_sd)
        normal = special.ndtr((self.samples - self.approx_mean) / self.approx_sd)
        i = np.arange(1, n + 1)
        self.approx_error = float(max(np.max(np.abs(i / n - normal)), np.max(np.abs((i - 1) / n - normal))))

    def cdf(self, x):
        """Empirical CDF (within ``dkw_band`` of the true one with probability 0.99)."""
        return (np.searchsorted(self.samples, np.asarray(x, dtype=np.float64), side="right") / self.samples.size)[()]

    def ppf(self, q):
        return np.quantile(self.samples, q)[()]


def cosine_law(norm1, norm2, dot, layer, *, n_samples=200_000, seed=None):
    """Law of the cosine of the two signals after one layer given the previous layer (Fig. 2)."""

    if float(norm1) == 0 or float(norm2) == 0:
        raise ValueError("norm1 and norm2 must be > 0: the cosine of a zero signal is undefined")
    v11, v22, v12 = _layer_covariance(norm1, norm2, dot, layer)
    chain = pair_laws(Network([layer]), norm1, norm2, dot, n_samples=n_samples, seed=seed)
    cos = chain.cosines[:, 0]
    ok = np.isfinite(cos)
    mu, cov = _per_unit_moments(v11, v22, v12)
    a, b, c = mu
    r = 1.0 / math.sqrt(a * b)
    grad = r * np.array([-0.5 * c / a, -0.5 * c / b, 1.0])
    sd = math.sqrt(max(float(grad @ cov @ grad), 0.0) / layer.width)
    _, first = mean_cosine(norm1, norm2, dot, layer)
    return CosineLaw(cos[ok], 1 - ok.mean(), first, sd)


# -- parameter sharing (Burkholz & Dubatovka §3): GSM and looks-linear ----------------------------------

def shared_pair_laws(network, d1_sq, d2_sq, d_dot, *, n_samples=100_000, seed=None):
    r"""Pair laws of a GSM or looks-linear network through its reduction to a linear network of half width.

    With ``W = [[W0, -W0], [-W0, W0]]`` and ``x = [a; b]``, a layer's pre-activations are
    ``[W0 d; -W0 d]`` with ``d = a - b``, so ``x' = [relu(h); relu(-h)]`` with ``h = W0 d``, the next
    ``d`` is ``h`` itself, and ``|x'|^2 = |h|^2``, ``<x1', x2'> = sum_i h1_i h2_i 1{h1_i h2_i > 0}``.
    The signal ``h`` follows the *linear* network ``h_l = W0_l h_{l-1}`` of half widths. GSM: ``W0``
    Gaussian, so the Gram matrix of ``(h1, h2)`` is a Wishart chain (sampled exactly, 2 N/2 normals
    per layer). Looks-linear (square ``W0``, ``sigma_w2 = 1``): ``W0`` is orthogonal, the Gram matrix
    of ``h`` is preserved exactly, and ``(W0 h1, W0 h2)`` is a uniformly random frame with that Gram matrix.

    Parameters
    ----------
    network : Network
        Every layer with ``sharing="gsm"``, or every layer ``"looks_linear"``.
    d1_sq, d2_sq, d_dot : float
        ``|d1|^2``, ``|d2|^2``, ``<d1, d2>`` of the inputs' differences ``d = x[:N0/2] - x[N0/2:]``.

    Returns
    -------
    PairChain
        The laws of ``|x_l|^2`` (equal to ``|h_l|^2``), ``<x1, x2>`` and the cosine of ``x`` per layer;
        the signal's own state is in the attribute ``signal`` (a PairChain of ``h``).
    """

    if not isinstance(network, Network):
        raise ValueError(f"network must be a sigdist.Network, got {type(network).__name__}")
    schemes = {layer.sharing for layer in network}
    if schemes not in ({"gsm"}, {"looks_linear"}):
        raise ValueError(f"every layer must share parameters the same way ('gsm' or 'looks_linear'), got {schemes}")
    a0, b0, c0 = _check_pair_state(d1_sq, d2_sq, d_dot, ("d1_sq", "d2_sq", "d_dot"), n_samples)
    for value, name in ((a0, "d1_sq"), (b0, "d2_sq")):
        if value == 0:  # h_l = W0_l h_{l-1} stays 0: every cosine would be 0/0
            raise ValueError(f"{name} must be > 0 (a zero signal stays zero and its cosine is undefined), "
                             f"got {value!r}")
    orthogonal = schemes == {"looks_linear"}
    rng = np.random.default_rng(check_seed(seed))
    depth = network.depth
    x_state = [np.empty((n_samples, depth)) for _ in range(3)]
    h_state = [np.empty((n_samples, depth)) for _ in range(3)]
    a, b, c = np.full(n_samples, a0), np.full(n_samples, b0), np.full(n_samples, c0)
    for l, layer in enumerate(network):
        half = layer.width // 2
        g = rng.standard_normal((2, n_samples, half))
        if orthogonal:
            # a uniformly random orthonormal pair (q1, q2), then h' = W0 h keeps the Gram matrix times sigma_w2
            q1 = g[0] / np.linalg.norm(g[0], axis=1, keepdims=True)
            r = g[1] - (g[1] * q1).sum(1, keepdims=True) * q1
            q2 = r / np.linalg.norm(r, axis=1, keepdims=True)
        else:
            q1, q2 = g[0], g[1]
        h1, h2 = _correlated_pair(layer.sigma_w2 * a, layer.sigma_w2 * b, layer.sigma_w2 * c, q1, q2)
        prod = h1 * h2
        a, b, c = (h1 * h1).sum(1), (h2 * h2).sum(1), prod.sum(1)
        h_state[0][:, l], h_state[1][:, l], h_state[2][:, l] = a, b, c
        x_state[0][:, l], x_state[1][:, l], x_state[2][:, l] = a, b, np.maximum(prod, 0.0).sum(1)
    chain = PairChain(*x_state)
    chain.signal = PairChain(*h_state)
    return chain
