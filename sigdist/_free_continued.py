r"""The cut of the infinite-width Jacobian law followed by Newton continuation (behind :mod:`sigdist.free_probability`).

:class:`ContinuedFreeJacobianLaw`: any activation with Gaussian weights, and relu (depth >= 3) and tanh with
orthogonal weights. The S-transform, its equations and the checks are in :mod:`sigdist.free_probability` and
``docs/jacobian.md`` §4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from ._checks import check_integer, check_positive

__all__ = ["CONTOUR_ACTIVATIONS", "ContinuedFreeJacobianLaw", "WEIGHTS", "tanh_sinh"]

WEIGHTS = ("gaussian", "orthogonal")


def tanh_sinh(a, b, level=7, t_max=3.5):
    """Nodes and weights of the tanh-sinh rule on ``[a, b]`` (endpoint singularities integrate to roundoff)."""
    h = 2.0 ** -level
    t = np.arange(-t_max, t_max + h / 2, h)
    u = 0.5 * math.pi * np.sinh(t)
    x = a + (b - a) * special.expit(2.0 * u)  # (1 + tanh u) / 2 without cancellation
    w = (b - a) * h * 0.5 * math.pi * np.cosh(t) / np.cosh(u) ** 2 * 0.5
    keep = (x > a) & (x < b) & (w > 0)
    return x[keep], w[keep]


_HERMITE_NODES, _HERMITE_WEIGHTS = np.polynomial.hermite_e.hermegauss(160)
_HERMITE_WEIGHTS = _HERMITE_WEIGHTS / math.sqrt(2.0 * math.pi)


#: activations whose ``m(z) = phi'(sqrt(q) z)^2`` is even, decreasing in ``|z|`` and whose other solutions of
#: ``m(z) = 1/zeta`` stay a fixed distance from the real axis: the orthogonal-weight law integrates over ``m`` on
#: a deformed contour (``_contour_nodes``). Not erf: ``exp(-2 q z^2) = const`` has solutions at distance
#: ``~ pi / sqrt(2 q log zeta)`` from the axis, which the contour crosses as ``x -> 0`` (measured: mass wrong by 0.5)
CONTOUR_ACTIVATIONS = ("tanh",)


def _contour_nodes(q, panels=200, order=20, z_max=12.0):
    r"""Complex nodes ``z_i`` and weights ``w_i`` with :math:`\sum_i w_i f(z_i) = E f(z)`, ``z ~ N(0, 1)``, for ``f``
    analytic near the real axis: composite Gauss-Legendre on ``[-z_max, z_max]`` mapped to the contour
    :math:`z(t) = t - i c \tanh t`, ``c = min(1/2, 0.3 pi / (2 sqrt q))`` (inside the strip where ``tanh'`` of
    ``sqrt(q) z`` is analytic).

    Why: with orthogonal weights no Wishart factor smooths the law of ``D^2``, and the spectrum near 0 is made by
    the rare small values of ``m``. There :math:`\zeta` is nearly real and large, and :math:`1/(1 - \zeta m(z))`
    has poles near the real ``z`` axis (above it for ``z > 0``, below for ``z < 0``, as ``m`` decreases in
    ``|z|``); any rule on the real axis turns them into isolated atoms and the cut breaks into bands. The contour
    passes on the other side of every pole, so the sum is the analytic continuation from
    :math:`\mathrm{Im}\,\zeta > 0`: the law of ``m`` stays continuous down to ``x = 0``.
    """
    x, w = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(-z_max, z_max, panels + 1)
    half = 0.5 * (edges[1] - edges[0])
    t = (edges[:-1, None] + half * (x[None, :] + 1.0)).ravel()
    c = min(0.5, 0.3 * math.pi / (2.0 * math.sqrt(q)))
    z = t - 1j * c * np.tanh(t)
    dz = 1.0 - 1j * c / np.cosh(t) ** 2
    return z, np.tile(w * half, panels) * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi) * dz


#: bound on the mass left below a point where the continuation stalls (orthogonal weights: the far tail of the
#: discretised ``D^2`` law leaves thin bands near ``x = 0``); beyond it the continuation raises
_LOST_MASS = 1e-11


@dataclass(frozen=True)
class ContinuedFreeJacobianLaw:
    r"""Infinite-width law of the eigenvalues of ``J J^T``: any activation with Gaussian weights; relu (depth >= 3),
    tanh with orthogonal weights.

    Every layer sits at the same pre-activation variance ``preactivation_variance`` (``q*``, the fixed point of
    the mean-field length map, as in Pennington et al. 2017), so ``D^2`` has the law of
    ``m = phi'(sqrt(q*) z)^2``, ``z ~ N(0, 1)`` (Gaussian weights: 160-node Gauss-Hermite; orthogonal weights:
    the contour rule of :func:`_contour_nodes`; relu: exactly Bernoulli(1/2)). With
    :math:`\psi_D(\zeta) = E[\zeta m/(1 - \zeta m)]` and :math:`S_D(\psi) = (1 + \psi)\zeta/\psi` where
    :math:`\psi_D(\zeta) = \psi`, :math:`S_{JJ^T} = S_D^L S_W^L` with :math:`S_W = 1/(\sigma^2(1 + \psi))`
    (Gaussian) or :math:`1/\sigma^2` (orthogonal), and :math:`x\psi = (1 + \psi)/S_{JJ^T}(\psi)`: the unknowns
    :math:`w = 1 + \psi` and :math:`\zeta` at ``x`` solve

    .. math:: \log x + (1 - L)\log(w - 1) + L\log\zeta - L\log\sigma^2 + c_w \log w = 0,\qquad
              E\Big[\frac{1}{1 - \zeta m}\Big] = w,

    with :math:`c_w = -1` (Gaussian) or :math:`L - 1` (orthogonal), every logarithm principal (``psi``,
    ``zeta``, ``w`` stay in the upper half plane on the cut; ``w`` as the unknown keeps its digits where
    ``psi -> -1`` as ``x -> 0``). sigdist finds the upper edge as the minimum of ``x`` over the real branch,
    leaves it on the square-root branch and follows the cut by Newton continuation in ``log x`` (steps halved
    where Newton stalls or jumps; a stall is accepted only where the mass left below is under 1e-11). The density
    is :math:`\mathrm{Im}\,w/(\pi x)`; moments are tanh-sinh quadratures in ``v = log(edge / x)`` on
    ``[0, 40 (L + 1)]`` (Gaussian: the density behaves like :math:`x^{-L/(L+1)}` at 0, in ``v`` it decays like
    :math:`e^{-v/(L+1)}`; orthogonal: one rule per octave of ``v``, as the mass spreads over ~sqrt(L) decades).
    Orthogonal relu's upper edge is :math:`(\sigma^2/2)^L L^L/(L-1)^{L-1}` (at :math:`\psi = 1/(L-2)`); at
    depth 1 the orthogonal law is that of :math:`\sigma^2 m` itself (its density by a change of variables).
    """

    depth: int
    activation: str = "tanh"
    sigma2: float = 1.0
    preactivation_variance: float = 1.0
    weights: str = "gaussian"

    def __post_init__(self):
        check_integer(self.depth, "depth")
        check_positive(self.sigma2, "sigma2")
        check_positive(self.preactivation_variance, "preactivation_variance")
        if self.weights not in WEIGHTS:
            raise ValueError(f"weights must be one of {', '.join(WEIGHTS)}, got {self.weights!r}")
        if self.weights == "orthogonal" and self.depth < 3 and self.activation == "relu":
            raise ValueError("relu with orthogonal weights at depth 1 or 2 is FreeJacobianLaw (closed forms): use "
                             "free_jacobian_law")
        from .jacobian import activation_derivative
        from .network import Layer

        if self.activation == "relu":
            m, w = np.array([0.0, 1.0]), np.array([0.5, 0.5])
            m_max = 1.0
        else:
            if self.weights == "orthogonal" and self.activation not in CONTOUR_ACTIVATIONS:
                raise NotImplementedError(f"orthogonal weights are built for relu, {', '.join(CONTOUR_ACTIVATIONS)}; "
                                          f"got {self.activation!r} (use jacobian_spectrum for finite width)")
            derivative = activation_derivative(Layer(1, 1.0, 0.0, self.activation))
            root_q = math.sqrt(self.preactivation_variance)
            if self.weights == "gaussian":
                m, w = derivative(root_q * _HERMITE_NODES) ** 2, _HERMITE_WEIGHTS
            else:
                z, w = _contour_nodes(self.preactivation_variance)
                m = derivative(root_q * z) ** 2
            m_max = float(derivative(0.0) ** 2) if self.weights == "orthogonal" else float(m.max())
        object.__setattr__(self, "_m", m)
        object.__setattr__(self, "_w", w)
        object.__setattr__(self, "_m_max", m_max)
        object.__setattr__(self, "_cache", {})

    @property
    def d_moments(self):
        """``(E m, E m^2)`` of ``m = phi'(h)^2``."""
        return float(np.real(self._w @ self._m)), float(np.real(self._w @ self._m ** 2))

    @property
    def _orthogonal(self):
        return 1.0 if self.weights == "orthogonal" else 0.0

    def exact_moments(self):
        r"""``(m_1, m_2)``: :math:`m_1 = (\sigma^2\mu_1)^L`, :math:`m_2 = m_1^2 (1 + L(\mu_2/\mu_1^2 - o))`,
        ``o = 1`` for orthogonal weights, 0 for Gaussian."""
        mu1, mu2 = self.d_moments
        m1 = (self.sigma2 * mu1) ** self.depth
        return m1, m1 * m1 * (1.0 + self.depth * (mu2 / mu1 ** 2 - self._orthogonal))

    @property
    def atom(self):
        """Mass at 0: the probability that ``m = 0`` (relu: 1/2)."""
        return float(np.real(self._w[self._m == 0].sum()))

    @property
    def atoms(self):
        """``((0, atom),)`` where there is an atom, else ``()`` (as :attr:`FreeJacobianLaw.atoms`)."""
        return ((0.0, self.atom),) if self.atom > 0 else ()

    def support(self):
        """``(0, upper edge)``."""
        return 0.0, self.upper_edge

    def mass(self, level=6):
        """Total mass (1 up to the quadrature's error)."""
        return self.moment(0, level)

    def _mean_inverse(self, zeta):
        """``E[1/(1 - zeta m)]`` and its derivative in ``zeta``."""
        t = 1.0 / (1.0 - np.asarray(zeta)[..., None] * self._m)
        return np.sum(self._w * t, axis=-1), np.sum(self._w * self._m * t * t, axis=-1)

    def _residual(self, log_x, w, zeta):
        L = self.depth
        cw = (L - 1.0) * self._orthogonal - (1.0 - self._orthogonal)  # the power of w: -1 Gaussian, L - 1 orthogonal
        r1 = log_x + (1 - L) * np.log(w - 1) + L * np.log(zeta) - L * math.log(self.sigma2) + cw * np.log(w)
        mi, dmi = self._mean_inverse(zeta)
        return r1, mi - w, (1 - L) / (w - 1) + cw / w, L / zeta, dmi

    def _newton(self, log_x, w, zeta, iters=30):
        for _ in range(iters):
            r1, r2, j11, j12, dmi = self._residual(log_x, w, zeta)
            det = j11 * dmi + j12  # Jacobian [[j11, j12], [-1, dmi]]
            d_w = (r1 * dmi - j12 * r2) / det
            d_zeta = (j11 * r2 + r1) / det
            w, zeta = w - d_w, zeta - d_zeta
            if abs(d_w) + abs(d_zeta) < 1e-14 * (abs(w) + abs(zeta)):
                return w, zeta, True
        return w, zeta, bool(abs(r1) + abs(r2) < 1e-10)

    def _real_log_x(self, psi):
        """``log x`` on the real branch (``psi > 0``), ``zeta`` in ``(0, 1/max m)`` by bisection."""
        lo, hi = 0.0, 1.0 / self._m_max
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if self._mean_inverse(np.array(mid))[0].real - 1 < psi else (lo, mid)
        zeta = 0.5 * (lo + hi)
        return -float(np.real(self._residual(0.0, 1.0 + psi, zeta)[0])), zeta

    def _edge(self):
        """``(psi, log x, zeta)`` at the upper edge: the minimum of ``log x`` over the real branch (golden section)."""
        if "edge" not in self._cache:
            self._cache["edge"] = self._find_edge()
        return self._cache["edge"]

    def _find_edge(self):
        if self.depth == 1 and self.weights == "orthogonal":  # x = sigma2 / zeta decreases to sigma2 max(m)
            return math.inf, math.log(self.sigma2 * self._m_max), 1.0 / self._m_max
        a, b = -30.0, 10.0
        g = (math.sqrt(5) - 1) / 2
        for _ in range(100):
            c, d = b - g * (b - a), a + g * (b - a)
            if self._real_log_x(math.exp(c))[0] < self._real_log_x(math.exp(d))[0]:
                b = d
            else:
                a = c
        psi_e = math.exp(0.5 * (a + b))
        return psi_e, *self._real_log_x(psi_e)

    @property
    def upper_edge(self):
        return math.exp(self._edge()[1])

    def _follow(self, log_xs):
        """``w = 1 + psi`` on the cut at ``log x`` values in decreasing order (Newton continuation from the edge)."""
        psi_e, log_xe, zeta_e = self._edge()
        h = 1e-4 * psi_e
        g2 = (self._real_log_x(psi_e + h)[0] - 2 * log_xe + self._real_log_x(psi_e - h)[0]) / h ** 2
        out = np.zeros(len(log_xs), dtype=complex)
        first = 1e-6  # leave the edge on the square-root branch; closer targets use that branch directly
        d_psi = 1j * math.sqrt(2.0 * first / abs(g2))
        cur_w, cur_zeta, ok = self._newton(log_xe - first, 1.0 + psi_e + d_psi,
                                           zeta_e + d_psi / self._mean_inverse(np.array(zeta_e))[1])
        if not ok:
            raise RuntimeError("could not leave the upper edge of the cut")
        cur_log_x = log_xe - first
        step = 0.05
        object.__setattr__(self, "_gap", None)
        for i, target in enumerate(log_xs):
            if target >= log_xe:
                continue
            if target > cur_log_x:
                out[i] = 1.0 + psi_e + 1j * math.sqrt(2.0 * (log_xe - target) / abs(g2))
                continue
            while cur_log_x > target:
                if cur_log_x - target < 1e-12:  # the same point to roundoff (rules meet at the octaves' ends)
                    cur_log_x = target
                    break
                step = min(2.0 * step, cur_log_x - target)
                while True:
                    w, zeta, ok = self._newton(cur_log_x - step, cur_w, cur_zeta)
                    if (ok and w.imag >= 0 and abs(w - cur_w) < 0.1 * (abs(cur_w) + 1e-300)
                            and abs(zeta - cur_zeta) < 0.1 * abs(cur_zeta)):
                        break
                    step /= 2
                    if step < 1e-12:
                        break
                if step < 1e-12:
                    break
                cur_log_x, cur_w, cur_zeta = cur_log_x - step, w, zeta
            if cur_log_x > target:
                # stalled: accepted where the mass below is negligible, (L + 1) x rho(x) (rho grows at most like
                # x^(-L/(L+1)) towards 0, the Gaussian case; orthogonal tanh's rho decays there)
                lost = (self.depth + 1) * max(cur_w.imag, 0.0) / math.pi
                if lost > _LOST_MASS:
                    raise RuntimeError(f"continuation along the cut failed at x = {math.exp(cur_log_x):.6g} "
                                       f"(x rho(x) = {cur_w.imag / math.pi:.3g})")
                object.__setattr__(self, "_gap", (math.exp(cur_log_x), lost))
                break
            out[i] = cur_w
        return out

    def _depth_one_pdf(self, x):
        """Orthogonal weights, depth 1: ``J J^T = sigma2 D^2``, the law of ``sigma2 m`` with ``m = m(|z|)`` decreasing:
        ``rho(x) = 2 phi(z) / (sigma2 |m'(z)|)`` at the root ``z > 0`` of ``sigma2 m(z) = x`` (bisection;
        ``m'`` by a complex step)."""
        from .jacobian import activation_derivative
        from .network import Layer

        derivative = activation_derivative(Layer(1, 1.0, 0.0, self.activation))
        root_q = math.sqrt(self.preactivation_variance)
        t = np.asarray(x, dtype=np.float64) / self.sigma2
        lo, hi = np.zeros(t.shape), np.full(t.shape, 40.0 / root_q)
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            above = derivative(root_q * mid) ** 2 > t
            lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
        z = 0.5 * (lo + hi)
        slope = np.imag(derivative(root_q * (z + 1e-30j)) ** 2) / 1e-30
        out = np.zeros(t.shape)
        inside = (t > 0) & (t < self._m_max) & (slope != 0)
        out[inside] = 2.0 * np.exp(-0.5 * z[inside] ** 2) / math.sqrt(2.0 * math.pi) / (
            self.sigma2 * np.abs(slope[inside]))
        return out

    def pdf(self, x):
        """Density of the continuous part at ``x``."""
        x = np.atleast_1d(np.asarray(x, dtype=np.float64))
        if self.depth == 1 and self.weights == "orthogonal":
            return self._depth_one_pdf(x)
        out = np.zeros_like(x)
        ok = x > 0
        order = np.argsort(-x[ok])
        w = self._follow(np.log(x[ok][order]))
        vals = np.zeros(order.size)
        vals[order] = np.abs(w.imag) / (math.pi * x[ok][order])
        out[ok] = vals
        return out

    def moment(self, k, level=6):
        """``E[lambda^k]``: the atom (``k = 0``) plus the quadrature of ``x^(k+1) rho(x)`` over ``v = log(edge/x)``."""
        k = check_integer(k, "k", 0)
        if self.depth == 1 and self.weights == "orthogonal":  # E (sigma2 m)^k: m^k is analytic on the contour
            return float(np.real(self._w @ (self.sigma2 * self._m) ** k))
        log_xe = self._edge()[1]
        if self.weights == "gaussian":
            v, wts = tanh_sinh(0.0, 40.0 * (self.depth + 1), level)
        else:  # orthogonal: the mass sits at scales of v from 1e-2 to ~sqrt(L) decades; one rule per octave
            top = 40.0 * (self.depth + 1)
            ends = [0.0] + [2.0 ** j for j in range(-6, int(math.log2(top)) + 1)] + [top]
            rules = [tanh_sinh(a, b, level + 1) for a, b in zip(ends, ends[1:]) if b > a]
            v, wts = np.concatenate([r[0] for r in rules]), np.concatenate([r[1] for r in rules])
            order = np.argsort(v)
            v, wts = v[order], wts[order]
        log_x = log_xe - v
        w = self._follow(log_x)
        return (self.atom if k == 0 else 0.0) + float(np.sum(wts * np.exp(k * log_x) * np.abs(w.imag)) / math.pi)
