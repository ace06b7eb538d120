r"""Infinite-width spectra of the input-output Jacobian (free probability; Pennington, Schoenholz & Ganguli 2017).

At infinite width the layers' ``D_l^2`` and ``W_l W_l^T`` are asymptotically free, so the law of the
eigenvalues of ``J J^T`` (``J = D_L W_L ... D_1 W_1``, square layers) has the S-transform

.. math:: S_{JJ^T}(z) = \prod_{l=1}^L S_{D_l^2}(z)\, S_{W_l^T W_l}(z),

with :math:`S_{W^TW}(z) = 1/(\sigma^2 (1 + z))` for Gaussian weights of variance :math:`\sigma^2 / N`
(``sigma_w2 = sigma^2 / N``: ``sigma2`` below is ``N sigma_w2``), :math:`1/\sigma^2` for scaled
orthogonal weights, and for relu, whose ``D^2`` is Bernoulli(1/2), :math:`S_{D^2}(z) = (1 + z)/(1/2 + z)`
(linear: 1). With the moment series :math:`\psi(z) = \sum_{k \ge 1} m_k z^k` and
:math:`\chi = \psi^{-1}`, :math:`\chi(\psi) = \psi S(\psi)/(1 + \psi)`, the value :math:`\psi` at
:math:`1/x` solves the polynomial equation

.. math:: x\,\psi = (1 + \psi) / S(\psi),

and the density of the law's continuous part is :math:`\rho(x) = |\mathrm{Im}\,\psi(1/x)| / (\pi x)` on the
cut. With ``S`` a product of linear factors, :math:`x = C \prod_k (\psi - z_k)^{c_k}`, and the cut is the curve
of the upper half plane where :math:`\sum_k c_k \arg(\psi - z_k) = 0` (every argument in :math:`(0, \pi)`,
so no branch is ambiguous): sigdist parametrises it by the argument ``theta`` of :math:`\psi - z_*` about
the factor of highest power and finds the radius on each ray by bisection. This avoids the roots of a
polynomial of degree ``L + 1``, which lose all accuracy at depth 50 (their coefficients span many orders
of magnitude) and near ``x = 0`` (they cluster). The linear Gaussian product is the Fuss-Catalan law (moments :math:`\binom{(L+1)k}{k}/(Lk+1)`,
upper edge :math:`(L+1)^{L+1}/L^L`), with the parametrisation used as a second route,

.. math:: x(\theta) = \frac{\sin^{L+1}((L+1)\theta)}{\sin\theta\,\sin^L(L\theta)},\quad
          \rho(x(\theta)) = \frac{\sin((L+1)\theta)\sin\theta}{\pi\,x\,\sin(L\theta)},\quad
          0 < \theta < \frac{\pi}{L+1}.

The first two moments follow from the S-transform's series :math:`S(z) = S_0 + S_1 z + \dots`:
:math:`m_1 = 1/S_0`, :math:`m_2 = (S_0 - S_1)/S_0^3`. relu: an atom ``1/2`` at 0 (``D_L`` kills half the
output), the continuous part carries the other half.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from ._checks import check_integer, check_positive

__all__ = ["ContinuedFreeJacobianLaw", "FreeJacobianLaw", "free_jacobian_law", "free_moments", "fuss_catalan_density", "fuss_catalan_edge",
           "fuss_catalan_moment", "ACTIVATIONS", "WEIGHTS"]

ACTIVATIONS = ("linear", "relu")
WEIGHTS = ("gaussian", "orthogonal")


def fuss_catalan_moment(depth, k):
    r"""``binom((L+1)k, k) / (Lk + 1)``: the ``k``-th moment of the squared singular values of a product of
    ``L = depth`` square Gaussian matrices with entries of variance ``1/N`` (``N -> inf``)."""
    depth, k = check_integer(depth, "depth"), check_integer(k, "k", 0)
    return math.comb((depth + 1) * k, k) / (depth * k + 1)


def fuss_catalan_edge(depth):
    """Upper edge ``(L+1)^(L+1) / L^L`` of the Fuss-Catalan law of ``L = depth`` factors."""
    depth = check_integer(depth, "depth")
    return (depth + 1) ** (depth + 1) / depth ** depth


def fuss_catalan_density(theta, depth):
    """``(x, rho(x))`` on the parametrisation ``theta in (0, pi/(L+1))`` (the closed-form route)."""
    L = check_integer(depth, "depth")
    theta = np.asarray(theta, dtype=np.float64)
    s1 = np.sin((L + 1) * theta)
    x = s1 ** (L + 1) / (np.sin(theta) * np.sin(L * theta) ** L)
    return x, s1 * np.sin(theta) / (math.pi * x * np.sin(L * theta))


def _tanh_sinh(a, b, level=7, t_max=3.5):
    """Nodes and weights of the tanh-sinh rule on ``[a, b]`` (endpoint singularities integrate to roundoff)."""
    h = 2.0 ** -level
    t = np.arange(-t_max, t_max + h / 2, h)
    u = 0.5 * math.pi * np.sinh(t)
    x = a + (b - a) * special.expit(2.0 * u)  # (1 + tanh u) / 2 without cancellation
    w = (b - a) * h * 0.5 * math.pi * np.cosh(t) / np.cosh(u) ** 2 * 0.5
    keep = (x > a) & (x < b) & (w > 0)
    return x[keep], w[keep]


@dataclass(frozen=True)
class FreeJacobianLaw:
    r"""The infinite-width law of the eigenvalues of ``J J^T`` for ``depth`` identical square layers.

    Parameters
    ----------
    depth : int
    activation : {"linear", "relu"}
    weights : {"gaussian", "orthogonal"}
    sigma2 : float
        ``N sigma_w2`` (1 for linear, 2 for relu keep ``m_1 = 1``: He).

    Attributes
    ----------
    atoms : tuple of (position, mass)
        relu: ``(0, 1/2)``; linear orthogonal: ``(sigma2^L, 1)``; relu orthogonal of depth 1: also ``(sigma2, 1/2)``.
    """

    depth: int
    activation: str = "linear"
    weights: str = "gaussian"
    sigma2: float = 1.0

    def __post_init__(self):
        check_integer(self.depth, "depth")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {self.activation!r}")
        if self.weights not in WEIGHTS:
            raise ValueError(f"weights must be one of {', '.join(WEIGHTS)}, got {self.weights!r}")
        check_positive(self.sigma2, "sigma2")
        if self.activation == "relu" and self.weights == "orthogonal" and self.depth > 1:
            raise NotImplementedError("relu with orthogonal weights is implemented at depth 1 only (its cut is not "
                                      "yet parametrised); use jacobian_spectrum for finite width")

    # -- the S-transform ------------------------------------------------------------------------------
    @property
    def _p(self):
        return 0.5 if self.activation == "relu" else 1.0

    def s_transform(self, z):
        r"""``S_{JJ^T}(z) = prod_l S_{D^2}(z) S_{W^TW}(z)``."""
        z = np.asarray(z)
        per_layer = 1.0 / (self.sigma2 * (self._p + z))  # S_D2 S_W for gaussian weights (relu or linear)
        if self.weights == "orthogonal":
            per_layer = per_layer * (1.0 + z)
        return per_layer ** self.depth

    def exact_moments(self):
        """``(m_1, m_2)`` from the S-transform's series: ``m_1 = 1/S_0``, ``m_2 = (S_0 - S_1)/S_0^3``."""
        s0 = float(self.s_transform(0.0))
        d1 = -1.0 / self._p + (1.0 if self.weights == "orthogonal" else 0.0)  # (log S_layer)'(0)
        s1 = s0 * self.depth * d1
        return 1.0 / s0, (s0 - s1) / s0 ** 3

    @property
    def _degenerate(self):
        """No continuous part: linear orthogonal (all at sigma2^L), relu orthogonal of depth 1 (0 and sigma2)."""
        return self.weights == "orthogonal" and (self.activation == "linear" or self.depth == 1)

    @property
    def atoms(self):
        if self.activation == "linear":
            return ((self.sigma2 ** self.depth, 1.0),) if self.weights == "orthogonal" else ()
        if self._degenerate:
            return ((0.0, 0.5), (self.sigma2, 0.5))
        return ((0.0, 0.5),)

    def _factors(self):
        """``(z_k, c_k)`` with ``x = sigma2^L prod (psi - z_k)^{c_k}``; the first is the centre of the rays."""
        L, p = self.depth, self._p
        if self.activation == "linear":
            return [(-1.0, L + 1), (0.0, -1)]
        if self.weights == "gaussian":
            return [(-p, L), (-1.0, 1), (0.0, -1)]
        return [(-p, L), (-1.0, -(L - 1)), (0.0, -1)]

    def _radius(self, theta, iters=120):
        """Radius ``r`` of the cut on the ray ``psi = z_* + r e^{i theta}`` (bisection in ``log r``; NaN: none)."""
        (zc, cc), others = self._factors()[0], self._factors()[1:]
        theta = np.asarray(theta, dtype=np.float64)
        ray = np.exp(1j * theta)

        def h(log_r):
            step = np.exp(log_r) * ray
            return cc * theta + sum(c * np.angle((zc - z) + step) for z, c in others)

        lo, hi = np.full(theta.shape, -60.0), np.full(theta.shape, 40.0)
        h_lo, h_hi = h(lo), h(hi)
        ok = np.sign(h_lo) * np.sign(h_hi) < 0
        for _ in range(iters):
            mid = 0.5 * (lo + hi)
            h_mid = h(mid)
            same = np.sign(h_mid) == np.sign(h_lo)
            lo, h_lo, hi = np.where(same, mid, lo), np.where(same, h_mid, h_lo), np.where(same, hi, mid)
        return np.where(ok, np.exp(0.5 * (lo + hi)), np.nan)

    def _differences(self, theta, r):
        """``psi - z_k`` for every factor, each formed without cancellation: ``(z_* - z_k) + r e^{i theta}``."""
        zc = self._factors()[0][0]
        step = r * np.exp(1j * np.asarray(theta))
        return [((zc - z) + step, c) for z, c in self._factors()]

    def _log_x(self, diffs):
        return self.depth * math.log(self.sigma2) + sum(c * np.log(np.abs(d)) for d, c in diffs)

    def _log_x_theta(self, theta):
        theta = np.asarray(theta, dtype=np.float64)
        return self._log_x(self._differences(theta, self._radius(theta)))

    def _theta_max(self):
        if self.activation == "linear":
            return math.pi / (self.depth + 1)
        return math.pi / self.depth

    def _curve(self, theta):
        """``log x``, ``|Im psi| / pi`` and ``|d log x / d theta|`` at the rays ``theta`` (``rho(x) x = |Im psi| / pi``)."""
        theta = np.asarray(theta, dtype=np.float64)
        r = self._radius(theta)
        diffs = self._differences(theta, r)
        ray = np.exp(1j * theta)
        a = sum(c * ray / d for d, c in diffs)  # F'(psi) e^{i theta}
        r_dot = -r * a.real / a.imag  # Im F = 0 along the cut
        dlogx = np.abs((a * (r_dot + 1j * r)).real)
        return self._log_x(diffs), r * np.sin(theta) / math.pi, dlogx

    def support(self):
        """``(lower, upper)`` edges of the continuous part (``(nan, nan)`` when there is none)."""
        if self._degenerate:
            return math.nan, math.nan
        eps = 1e-12
        top = self._theta_max()
        x_hi, x_lo = np.exp(self._log_x_theta(np.array([eps * top, (1 - eps) * top])))
        return float(x_lo), float(x_hi)

    def pdf(self, x, iters=80):
        """Density of the continuous part at ``x`` (it integrates to ``1 -`` the atoms' mass)."""
        x = np.atleast_1d(np.asarray(x, dtype=np.float64))
        out = np.zeros_like(x)
        if self._degenerate:
            return out
        lower, upper = self.support()
        inside = (x > lower) & (x < upper)
        if not inside.any():
            return out
        target = np.log(x[inside])
        lo, hi = np.zeros(target.shape), np.full(target.shape, self._theta_max())
        for _ in range(iters):  # x(theta) decreases from the upper edge to the lower one
            mid = 0.5 * (lo + hi)
            above = self._log_x_theta(mid) > target
            lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
        log_x, im, _ = self._curve(0.5 * (lo + hi))
        out[inside] = im * np.exp(-log_x)
        return out

    def moment(self, k, level=7):
        """``E[lambda^k]``: the atoms plus the tanh-sinh quadrature of the density along the cut."""
        k = check_integer(k, "k", 0)
        total = sum(m * pos ** k for pos, m in self.atoms)
        if self._degenerate:
            return total
        theta, w = _tanh_sinh(0.0, self._theta_max(), level)
        log_x, im, dlogx = self._curve(theta)
        return total + float(np.sum(w * im * np.exp(k * log_x) * dlogx))

    def mass(self, level=7):
        """Total mass (1 up to the quadrature's error)."""
        return self.moment(0, level)


def free_jacobian_law(depth, activation="linear", weights="gaussian", sigma2=None, preactivation_variance=None):
    """The infinite-width law of the eigenvalues of ``J J^T``.

    linear and relu: :class:`FreeJacobianLaw` (closed-form S-transform, the cut by rays); any other activation
    (tanh, erf, ...; Gaussian weights): :class:`ContinuedFreeJacobianLaw` at the pre-activation variance
    ``preactivation_variance`` (``q*``, required). ``sigma2`` (``N sigma_w2``) defaults to the critical value,
    ``1 / E[phi'(h)^2]`` (1 for linear, 2 for relu: ``m_1 = 1``).

    Examples
    --------
    >>> from sigdist.free_probability import free_jacobian_law, fuss_catalan_moment
    >>> law = free_jacobian_law(3)
    >>> abs(law.mass() - 1) < 1e-10, round(law.moment(2), 10), fuss_catalan_moment(3, 2)
    (True, 4.0, 4.0)
    """
    if activation in ACTIVATIONS:
        if sigma2 is None:
            sigma2 = 2.0 if activation == "relu" else 1.0
        return FreeJacobianLaw(depth, activation, weights, float(sigma2))
    if weights != "gaussian":
        raise NotImplementedError(f"the infinite-width law of {activation!r} with {weights!r} weights is not built "
                                  "(Gaussian weights only); use jacobian_spectrum for finite width")
    if preactivation_variance is None:
        raise ValueError(f"preactivation_variance (q*, > 0) is required for activation {activation!r}")
    law = ContinuedFreeJacobianLaw(depth, activation, 1.0, float(preactivation_variance))
    if sigma2 is None:
        sigma2 = 1.0 / law.d_moments[0]
    return ContinuedFreeJacobianLaw(depth, activation, float(sigma2), float(preactivation_variance))


def free_moments(depth, activation="linear", weights="gaussian", sigma2=None, preactivation_variance=None):
    r"""Closed-form ``(m_1, m_2)`` of the infinite-width law of ``JJ^T`` from the S-transform's series, for every
    activation and both weight laws (also where the density is not built).

    With :math:`\mu_k = E[m^k]`, ``m = phi'(h)^2`` (relu: 1/2, 1/2; linear: 1, 1; otherwise at ``q*``):
    :math:`m_1 = (\sigma^2\mu_1)^L`, :math:`m_2 = m_1^2 (1 + L(\mu_2/\mu_1^2 - [\text{orthogonal}]))`.
    ``sigma2`` defaults to the critical ``1/mu_1``.
    """
    check_integer(depth, "depth")
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {', '.join(WEIGHTS)}, got {weights!r}")
    if activation in ACTIVATIONS:
        mu1 = mu2 = 0.5 if activation == "relu" else 1.0
    else:
        if preactivation_variance is None:
            raise ValueError(f"preactivation_variance (q*, > 0) is required for activation {activation!r}")
        mu1, mu2 = ContinuedFreeJacobianLaw(1, activation, 1.0, float(preactivation_variance)).d_moments
    sigma2 = 1.0 / mu1 if sigma2 is None else check_positive(sigma2, "sigma2")
    m1 = (sigma2 * mu1) ** depth
    return m1, m1 * m1 * (1.0 + depth * (mu2 / mu1 ** 2 - (1.0 if weights == "orthogonal" else 0.0)))


# -- smooth activations and orthogonal relu: the cut followed by continuation ---------------------------------

_HERMITE_NODES, _HERMITE_WEIGHTS = np.polynomial.hermite_e.hermegauss(160)
_HERMITE_WEIGHTS = _HERMITE_WEIGHTS / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class ContinuedFreeJacobianLaw:
    r"""Infinite-width law of the eigenvalues of ``J J^T`` for any activation with Gaussian weights.

    Every layer sits at the same pre-activation variance ``preactivation_variance`` (``q*``, the fixed point of
    the mean-field length map, as in Pennington et al. 2017), so ``D^2`` has the law of
    ``m = phi'(sqrt(q*) z)^2``, ``z ~ N(0, 1)`` (160-node Gauss-Hermite; relu: exactly Bernoulli(1/2)). With
    :math:`\psi_D(\zeta) = E[\zeta m/(1 - \zeta m)]` and :math:`S_D(\psi) = (1 + \psi)\zeta/\psi` where
    :math:`\psi_D(\zeta) = \psi`, the unknowns :math:`w = 1 + \psi` and :math:`\zeta` at ``x`` solve

    .. math:: \log x + (1 - L)\log(w - 1) + L\log\zeta - L\log\sigma^2 - \log w = 0,\qquad
              E\Big[\frac{1}{1 - \zeta m}\Big] = w,

    every logarithm principal (``psi``, ``zeta``, ``w`` stay in the upper half plane on the cut; ``w`` as
    the unknown keeps its digits where ``psi -> -1`` as ``x -> 0``). sigdist finds the upper edge as the
    minimum of ``x`` over the real branch, leaves it on the square-root branch and follows the cut by Newton
    continuation in ``log x`` (steps halved where Newton stalls or jumps). The density is
    :math:`\mathrm{Im}\,w/(\pi x)`; moments are tanh-sinh quadratures in ``v = log(edge / x)`` on
    ``[0, 40 (L + 1)]`` (the density behaves like :math:`x^{-L/(L+1)}` at 0: in ``v`` it decays like
    :math:`e^{-v/(L+1)}`).
    """

    depth: int
    activation: str = "tanh"
    sigma2: float = 1.0
    preactivation_variance: float = 1.0

    def __post_init__(self):
        check_integer(self.depth, "depth")
        check_positive(self.sigma2, "sigma2")
        check_positive(self.preactivation_variance, "preactivation_variance")
        from .jacobian import activation_derivative
        from .network import Layer

        if self.activation == "relu":
            m, w = np.array([0.0, 1.0]), np.array([0.5, 0.5])
        else:
            layer = Layer(1, 1.0, 0.0, self.activation)
            m = activation_derivative(layer)(math.sqrt(self.preactivation_variance) * _HERMITE_NODES) ** 2
            w = _HERMITE_WEIGHTS
        object.__setattr__(self, "_m", m)
        object.__setattr__(self, "_w", w)

    @property
    def d_moments(self):
        """``(E m, E m^2)`` of ``m = phi'(h)^2``."""
        return float(self._w @ self._m), float(self._w @ self._m ** 2)

    def exact_moments(self):
        r"""``(m_1, m_2)``: :math:`m_1 = (\sigma^2\mu_1)^L`, :math:`m_2 = m_1^2 (1 + L\mu_2/\mu_1^2)`."""
        mu1, mu2 = self.d_moments
        m1 = (self.sigma2 * mu1) ** self.depth
        return m1, m1 * m1 * (1.0 + self.depth * mu2 / mu1 ** 2)

    @property
    def atom(self):
        """Mass at 0: the probability that ``m = 0`` (relu: 1/2)."""
        return float(self._w[self._m == 0].sum())

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
        r1 = log_x + (1 - L) * np.log(w - 1) + L * np.log(zeta) - L * math.log(self.sigma2) - np.log(w)
        mi, dmi = self._mean_inverse(zeta)
        return r1, mi - w, (1 - L) / (w - 1) - 1 / w, L / zeta, dmi

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
        lo, hi = 0.0, 1.0 / self._m.max()
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if self._mean_inverse(np.array(mid))[0] - 1 < psi else (lo, mid)
        zeta = 0.5 * (lo + hi)
        return -float(np.real(self._residual(0.0, 1.0 + psi, zeta)[0])), zeta

    def _edge(self):
        """``(psi, log x, zeta)`` at the upper edge: the minimum of ``log x`` over the real branch (golden section)."""
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
        for i, target in enumerate(log_xs):
            if target >= log_xe:
                continue
            if target > cur_log_x:
                out[i] = 1.0 + psi_e + 1j * math.sqrt(2.0 * (log_xe - target) / abs(g2))
                continue
            while cur_log_x > target:
                step = min(2.0 * step, cur_log_x - target)
                while True:
                    w, zeta, ok = self._newton(cur_log_x - step, cur_w, cur_zeta)
                    if (ok and w.imag >= 0 and abs(w - cur_w) < 0.1 * (abs(cur_w) + 1e-300)
                            and abs(zeta - cur_zeta) < 0.1 * abs(cur_zeta)):
                        break
                    step /= 2
                    if step < 1e-12:
                        raise RuntimeError(f"continuation along the cut failed at x = {math.exp(cur_log_x):.6g}")
                cur_log_x, cur_w, cur_zeta = cur_log_x - step, w, zeta
            out[i] = cur_w
        return out

    def pdf(self, x):
        """Density of the continuous part at ``x``."""
        x = np.atleast_1d(np.asarray(x, dtype=np.float64))
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
        log_xe = self._edge()[1]
        v, wts = _tanh_sinh(0.0, 40.0 * (self.depth + 1), level)
        log_x = log_xe - v
        w = self._follow(log_x)
        return (self.atom if k == 0 else 0.0) + float(np.sum(wts * np.exp(k * log_x) * np.abs(w.imag)) / math.pi)
