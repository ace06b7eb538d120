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

Orthogonal weights (:math:`S_{W^TW} = 1/\sigma^2`): linear is a point mass at :math:`\sigma^{2L}`; relu is two
points at depth 1, half the arcsine law on :math:`(0, \sigma^4)` at depth 2 (:math:`x = \sigma^4(1 + 1/(4\psi(1 +
\psi)))`: the cut is :math:`\mathrm{Re}\,\psi = -1/2`), and from depth 3 a continuous part with upper edge
:math:`(\sigma^2/2)^L L^L/(L-1)^{L-1}`, followed by continuation (:class:`ContinuedFreeJacobianLaw`), as
tanh is at any depth.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from ._warnings import SigdistWarning
from ._checks import check_integer, check_positive
from ._free_continued import CONTOUR_ACTIVATIONS, WEIGHTS, ContinuedFreeJacobianLaw, tanh_sinh

__all__ = ["ContinuedFreeJacobianLaw", "FreeJacobianLaw", "free_jacobian_law", "free_moments", "fuss_catalan_density", "fuss_catalan_edge",
           "fuss_catalan_moment", "ACTIVATIONS", "WEIGHTS"]

ACTIVATIONS = ("linear", "relu")


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
        if self.activation == "relu" and self.weights == "orthogonal" and self.depth > 2:
            raise ValueError("relu with orthogonal weights at depth > 2 has a cut that rays from -1/2 cross twice: "
                             "use free_jacobian_law (it returns a ContinuedFreeJacobianLaw)")

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
    def _arcsine(self):
        """relu orthogonal of depth 2: the cut is the line ``Re psi = -1/2`` and the continuous part is
        ``1 / (2 pi sqrt(x (sigma2^2 - x)))`` on ``(0, sigma2^2)`` (half an arcsine law)."""
        return self.activation == "relu" and self.weights == "orthogonal" and self.depth == 2

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
        if self._arcsine:
            return 0.0, self.sigma2 ** 2
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
        if self._arcsine:
            out[inside] = 1.0 / (2.0 * math.pi * np.sqrt(x[inside] * (upper - x[inside])))
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
        if self._arcsine:  # int_0^1 t^k / (2 pi sqrt(t (1 - t))) dt = binom(2k, k) / 2^(2k + 1)
            return total + self.sigma2 ** (2 * k) * math.comb(2 * k, k) / 2.0 ** (2 * k + 1)
        theta, w = tanh_sinh(0.0, self._theta_max(), level)
        log_x, im, dlogx = self._curve(theta)
        return total + float(np.sum(w * im * np.exp(k * log_x) * dlogx))

    def mass(self, level=7):
        """Total mass (1 up to the quadrature's error)."""
        return self.moment(0, level)


def free_jacobian_law(depth, activation="linear", weights="gaussian", sigma2=None, preactivation_variance=None):
    """The infinite-width law of the eigenvalues of ``J J^T``.

    linear and relu: :class:`FreeJacobianLaw` (closed-form S-transform, the cut by rays; relu with orthogonal
    weights: two points at depth 1, half an arcsine law at depth 2, :class:`ContinuedFreeJacobianLaw` from depth 3,
    where rays from ``-1/2`` cross the cut twice); any other activation (tanh, erf, ...; Gaussian weights, or
    orthogonal for tanh): :class:`ContinuedFreeJacobianLaw` at the pre-activation variance
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
        if activation == "relu" and weights == "orthogonal" and check_integer(depth, "depth") > 2:
            return ContinuedFreeJacobianLaw(depth, "relu", float(sigma2), 1.0, "orthogonal")
        return FreeJacobianLaw(depth, activation, weights, float(sigma2))
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {', '.join(WEIGHTS)}, got {weights!r}")
    if preactivation_variance is None:
        raise ValueError(f"preactivation_variance (q*, > 0) is required for activation {activation!r}")
    try:
        law = ContinuedFreeJacobianLaw(depth, activation, 1.0, float(preactivation_variance), weights)
        if sigma2 is None:
            sigma2 = 1.0 / law.d_moments[0]
        law = ContinuedFreeJacobianLaw(depth, activation, float(sigma2), float(preactivation_variance), weights)
        lost = abs(1.0 - law.mass())
    except NotImplementedError:
        raise
    except RuntimeError as err:  # phi'^2 nearly constant: the law is close to a point mass the cut cannot follow
        raise ValueError(f"preactivation_variance = {preactivation_variance!r} is outside what the continuation "
                         f"of {activation}'s density reaches ({err}); try q* >= 1e-3") from None
    if lost > 1e-8:  # large q*: mass piles up next to x = 0, where the quadrature does not resolve it
        warnings.warn(f"free_jacobian_law({activation!r}, q* = {preactivation_variance:g}): the density integrates "
                      f"to 1 - {lost:.2g}; its moments (free_moments) stay exact", SigdistWarning, stacklevel=2)
    return law


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
        # the orthogonal law's nodes (a contour rule, ~1e-15) where it has them; 160 Gauss-Hermite nodes otherwise
        nodes = weights if activation in CONTOUR_ACTIVATIONS else "gaussian"
        mu1, mu2 = ContinuedFreeJacobianLaw(1, activation, 1.0, float(preactivation_variance), nodes).d_moments
    sigma2 = 1.0 / mu1 if sigma2 is None else check_positive(sigma2, "sigma2")
    m1 = (sigma2 * mu1) ** depth
    return m1, m1 * m1 * (1.0 + depth * (mu2 / mu1 ** 2 - (1.0 if weights == "orthogonal" else 0.0)))
