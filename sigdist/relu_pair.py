r"""One ReLU unit seeing two inputs: closed forms in the covariance ``V`` (Burkholz & Dubatovka Prop. 2, Thm. 5).

Given the previous layer, the pre-activations ``(h1, h2)`` of one unit for two
inputs are bivariate normal with covariance ``V`` (eq. 4),
:math:`v_{ij} = \sigma_w^2 \langle x_i, x_j\rangle + \sigma_b^2`, and correlation
:math:`\rho = v_{12}/\sqrt{v_{11} v_{22}}`. Everything here is a closed form in ``V``:

* :math:`g(\rho) = P(h_1 > 0, h_2 > 0) = \tfrac14 + \arcsin(\rho)/(2\pi)` (Sheppard's
  formula; the paper's integral, with :math:`g(\pm 1)` exact);
* :math:`E[x_1 x_2] = \sqrt{v_{11} v_{22}}\,\big(\sqrt{1-\rho^2} + (\pi - \arccos\rho)\rho\big)/(2\pi)`
  (the first arc-cosine kernel, equal to eq. 10's :math:`g\rho + \sqrt{1-\rho^2}/(2\pi)`);
* the correlation after the ReLU (eq. 9) and the infinite-width cosine map;
* the mixed moments :math:`E[\mathrm{relu}(h_1)^p \mathrm{relu}(h_2)^q]`;
* the law of :math:`x_1 x_2 = \mathrm{relu}(h_1)\mathrm{relu}(h_2)` (:class:`ProductLaw`): an atom
  :math:`1 - g(\rho)` at 0 and, for ``t > 0``,

  .. math:: f(t) = \frac{1}{2\pi\sqrt{\det V}}\, \exp\Big(\frac{v_{12}\, t}{\det V}\Big)\,
            K_0\Big(\frac{\sqrt{v_{11} v_{22}}\; t}{\det V}\Big),

  half of the density of the product of a bivariate normal pair on ``t > 0`` (the
  quadrants ``(+, +)`` and ``(-, -)`` contribute equally). The printed :math:`f_{prod}`
  has :math:`v_{12} t / (2 \det V)` in the exponential (docs/errata.md).

Functions of a layer (:func:`layer_covariance`, :func:`mean_scalar_product`) take the
``Layer`` first and the two inputs as ``y1, y2, y12`` (squared norms and scalar product).

Every other activation gets the same functions by the quadrature of :mod:`sigdist.pair_moments`
(:func:`correlation_map`, :func:`c_map` with the variances ``v11, v22`` and ``activation`` as
keywords; :func:`mean_scalar_product` of any i.i.d. Gaussian layer); relu keeps the closed forms.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, optimize, special

from ._checks import check_points
from ._law import Law
from .activations import get_activation
from .pair_moments import activation_moments, check_covariance, layer_covariance  # eq. 4 is re-exported

__all__ = ["orthant_probability", "correlation_map", "c_map", "layer_covariance", "mean_scalar_product",
           "relu_moment", "ProductLaw", "product_law", "EQ10_APPROXIMATION_WORST_ERROR"]

_RHO_SLACK = 1e-12  # |rho| may exceed 1 by rounding; beyond this it is an error


_RELU = get_activation("relu")  # built-in activations are one object each


def _check_rho(rho):
    r = check_points(rho, "rho")
    if np.any(np.isnan(r)) or np.any(np.abs(r) > 1 + _RHO_SLACK):
        raise ValueError(f"rho must lie in [-1, 1], got {rho!r}")
    return np.clip(r, -1.0, 1.0)


def orthant_probability(rho):
    r""":math:`g(\rho) = P(h_1 > 0, h_2 > 0) = 1/4 + \arcsin(\rho) / (2\pi)` (Thm. 5); ``g(-1) = 0``, ``g(1) = 1/2``."""
    r = _check_rho(rho)
    return (0.25 + np.arcsin(r) / (2 * math.pi))[()]


def _kernel_k1(r):
    """``(sqrt(1 - r^2) + (pi - arccos r) r) / (2 pi)`` = ``E[relu(h1) relu(h2)]`` for unit variances."""
    return (np.sqrt(np.maximum(1 - r * r, 0.0)) + (math.pi - np.arccos(r)) * r) / (2 * math.pi)


def _generic_means(rho, v11, v22, activation):
    """``(E phi1, E phi2, E phi1^2, E phi2^2, E phi1 phi2)`` per entry of ``rho`` (by quadrature)."""
    v11, v22, _ = check_covariance(v11, v22, 0.0)
    scale = math.sqrt(v11) * math.sqrt(v22)
    out = np.array([activation_moments(activation, [(1, 0), (0, 1), (2, 0), (0, 2), (1, 1)], v11, v22, r * scale)
                    for r in np.ravel(rho)])
    return out.reshape(np.shape(rho) + (5,))


def correlation_map(rho, *, v11=1.0, v22=1.0, activation="relu"):
    r"""Correlation of ``phi(h1)``, ``phi(h2)`` given the pre-activation correlation ``rho`` and variances.

    For relu it is scale-free and closed (eq. 9):

    .. math:: \mathrm{Cor}(x_1, x_2) = \frac{\sqrt{1-\rho^2} - 1 + 2\pi\rho\, g(\rho)}{\pi - 1},

    exact at the endpoints (1 at ``rho = 1``, ``-1/(pi - 1)`` at ``rho = -1``); ``v11``, ``v22`` are
    then not read. For any other activation it is
    :math:`(E\phi_1\phi_2 - E\phi_1 E\phi_2)/\sqrt{\mathrm{Var}\,\phi_1\,\mathrm{Var}\,\phi_2}` with
    :math:`(h_1, h_2) \sim N(0, V)`, :math:`v_{12} = \rho\sqrt{v_{11} v_{22}}`, by the quadrature of
    :func:`sigdist.pair_moments.activation_moments` (roundoff accuracy for analytic ``phi``).

    Parameters
    ----------
    rho : float or array_like
        Pre-activation correlation(s) in ``[-1, 1]``.
    v11, v22 : float, optional
        The two pre-activation variances (``> 0``); default 1.
    activation : str, Activation or callable, optional
        ``phi``; default ``"relu"``.
    """
    r = _check_rho(rho)
    act = get_activation(activation)
    if act is _RELU:
        return ((2 * math.pi * _kernel_k1(r) - 1.0) / (math.pi - 1.0))[()]
    m = _generic_means(r, v11, v22, act)
    var1, var2 = m[..., 2] - m[..., 0] ** 2, m[..., 3] - m[..., 1] ** 2
    if np.any(var1 <= 0) or np.any(var2 <= 0):
        raise ValueError(f"activation {act.name!r}: phi(h) has variance 0 under N(0, V) with v11={v11!r}, "
                         f"v22={v22!r}: its correlation is undefined")
    return ((m[..., 4] - m[..., 0] * m[..., 1]) / np.sqrt(var1 * var2))[()]


def c_map(rho, *, v11=1.0, v22=1.0, activation="relu"):
    r"""Infinite-width cosine after a layer (the mean-field c-map): :math:`E\phi_1\phi_2/\sqrt{E\phi_1^2\, E\phi_2^2}`.

    ``rho`` is the pre-activation correlation (the input cosine when :math:`\sigma_b = 0`),
    ``v11``, ``v22`` the pre-activation variances. For relu it is scale-free and closed,
    :math:`(\sqrt{1-\rho^2} + (\pi - \arccos\rho)\rho)/\pi` (``v11``, ``v22`` not read); for any other
    activation it is Poole et al. (2016)'s :math:`C(c, q_{11}, q_{22})` up to
    :math:`\sigma_w^2, \sigma_b^2` (their eq. 5 reads :math:`c^l = (\sigma_w^2 E\phi_1\phi_2 + \sigma_b^2)/
    \sqrt{q_{11} q_{22}}` with :math:`q = \sigma_w^2 E\phi^2 + \sigma_b^2`; with
    :math:`\sigma_b = 0` the two agree), by quadrature.

    Parameters
    ----------
    rho : float or array_like
        Pre-activation correlation(s) in ``[-1, 1]``.
    v11, v22 : float, optional
        The two pre-activation variances (``> 0``); default 1.
    activation : str, Activation or callable, optional
        ``phi``; default ``"relu"``.
    """
    r = _check_rho(rho)
    act = get_activation(activation)
    if act is _RELU:
        return (2.0 * _kernel_k1(r))[()]
    m = _generic_means(r, v11, v22, act)
    if np.any(m[..., 2] <= 0) or np.any(m[..., 3] <= 0):
        raise ValueError(f"activation {act.name!r}: phi(h) = 0 surely under N(0, V) with v11={v11!r}, v22={v22!r}: "
                         "the cosine is undefined")
    return (m[..., 4] / np.sqrt(m[..., 2] * m[..., 3]))[()]


def _mean_product(v11, v22, v12):
    """``E[relu(h1) relu(h2)]`` for a checked ``V``."""
    scale = math.sqrt(v11) * math.sqrt(v22)
    return scale * float(_kernel_k1(np.float64(v12 / scale)))


def mean_scalar_product(layer, y1, y2, y12):
    r"""Mean scalar product after one layer, exact: :math:`E\langle x_1, x_2\rangle = N E[\phi(h_1)\phi(h_2)]`.

    For relu it is eq. 10,
    :math:`N \sqrt{v_{11} v_{22}}\,(g(\rho)\rho + \sqrt{1-\rho^2}/(2\pi))`; for any other activation
    the quadrature of :func:`sigdist.pair_moments.activation_moments`. ``V`` is
    :func:`layer_covariance` of ``(layer, y1, y2, y12)`` and ``N = layer.width``.
    """
    v11, v22, v12 = layer_covariance(layer, y1, y2, y12)
    if layer.activation is not _RELU:
        return layer.width * float(activation_moments(layer.activation, [(1, 1)], v11, v22, v12)[0])
    v11, v22, v12 = check_covariance(v11, v22, v12)
    return layer.width * _mean_product(v11, v22, v12)


def _eq10_worst_error():
    # max over rho of |(g rho + sqrt(1 - rho^2) / (2 pi)) - (rho + 1) / 4|, the printed approximation's error
    err = lambda r: -abs(float(_kernel_k1(np.float64(r))) - (r + 1) / 4)  # noqa: E731
    res = optimize.minimize_scalar(err, bounds=(-1, 1), method="bounded", options={"xatol": 1e-12})
    return float(res.x), -float(res.fun)


#: (rho, error): where the printed "~ N sqrt(v11 v22)(rho + 1)/4" of eq. 10 is worst, per unit N sqrt(v11 v22)
EQ10_APPROXIMATION_WORST_ERROR = _eq10_worst_error()


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
    v11, v22, v12 = check_covariance(v11, v22, v12)
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




# -- the law of one component's product x1 x2 -------------------------------------------------------

class ProductLaw(Law):
    r"""Law of one component's product ``x1 x2 = relu(h1) relu(h2)``, ``(h1, h2) ~ N(0, V)`` (Thm. 5, derived).

    An atom ``1 - g(rho)`` at 0 plus the density of the module notes on ``t > 0``; the whole
    :class:`~sigdist.Law` contract. ``cdf``/``sf`` integrate the density adaptively (the
    logarithmic singularity of :math:`K_0` at 0 and the scale :math:`\det V/\sqrt{v_{11}v_{22}}`
    are breakpoints), ``sf`` from the right; ``ppf``/``isf`` invert them by Brent's method;
    moments of order 1 and 2 are closed forms (eq. 10 per unit and
    :math:`v_{11}v_{22}((1 + 2\rho^2)(\pi - \arccos\rho) + 3\rho\sqrt{1-\rho^2})/(2\pi)`), higher
    ones quadrature of the density; ``rvs`` draws ``(h1, h2)`` exactly.

    Parameters
    ----------
    v11, v22, v12 : float
        The covariance ``V`` (``v11, v22 > 0``, ``|v12| <= sqrt(v11 v22)``).

    Attributes
    ----------
    v11, v22, v12, rho, det : float
        ``V``, its correlation and determinant.
    atom : float
        ``P(x1 x2 = 0) = 1 - g(rho)``.
    """

    label = "x1 x2"
    _support = (0.0, math.inf)

    def __init__(self, v11, v22, v12):
        self.v11, self.v22, self.v12 = check_covariance(v11, v22, v12)
        self._scale = math.sqrt(self.v11) * math.sqrt(self.v22)
        self.rho = self.v12 / self._scale
        # det V = v11 v22 (1 - rho^2) below roundoff of v11 v22: h2 is a multiple of h1, and rho is +-1
        # exactly (arcsin's infinite slope at 1 would turn the rounding of rho into an atom error of 1e-8)
        self._degenerate = 1.0 - self.rho * self.rho <= 1e-14
        if self._degenerate:
            self.rho = math.copysign(1.0, self.rho)
        self.det = max(self.v11 * self.v22 - self.v12 * self.v12, 0.0)
        self.atom = 1.0 - float(orthant_probability(self.rho))

    def __repr__(self):
        return f"ProductLaw(v11={self.v11:.6g}, v22={self.v22:.6g}, v12={self.v12:.6g}, atom={self.atom:.6g})"

    # -- hooks ------------------------------------------------------------------------------------
    def _pdf(self, t):
        t = np.asarray(t, dtype=np.float64)
        out = np.zeros(t.shape)
        pos = t > 0
        if self._degenerate:
            if self.rho > 0:  # rho = 1: x1 x2 = scale relu(g)^2, a half chi2_1 scaled by sqrt(v11 v22)
                u = t[pos] / self._scale
                out[pos] = 0.5 * np.exp(-0.5 * u) / np.sqrt(2 * math.pi * u) / self._scale
            return out
        a = self._scale / self.det
        b = self.v12 / self.det
        tp = t[pos]
        # K0(a t) exp(b t) = k0e(a t) exp((b - a) t) with b - a <= 0: no overflow (a t = inf gives 0)
        with np.errstate(over="ignore"):
                out[pos] = special.k0e(a * tp) * np.exp((b - a) * tp) / (2 * math.pi * math.sqrt(self.det))
        return out

    def _integral(self, lo, hi):
        f = lambda s: float(self._pdf(np.array([s]))[0])  # noqa: E731
        return integrate.quad(f, lo, hi, limit=400, epsabs=1e-15, epsrel=1e-12)[0]

    @property
    def _knot(self):
        # the log singularity of K0 at 0 and the scale det V / sqrt(v11 v22) set the breakpoint
        return self.det / self._scale if not self._degenerate else self._scale

    def _cdf_one(self, x):
        if x <= 0 or self.continuous_mass == 0:
            return 0.0
        if self._degenerate:  # rho = 1: P(g > 0, scale g^2 <= x) = erf(sqrt(x / (2 scale))) / 2
            return 0.5 * math.erf(math.sqrt(x / (2 * self._scale)))
        if x > 1e3 * self._scale:  # far right (x = inf included): the tail integral is the accurate one
            return self.continuous_mass - self._sf_one(x)
        knot = min(x, self._knot)
        return self._integral(0.0, knot) + (self._integral(knot, x) if x > knot else 0.0)

    def _sf_one(self, x):
        if self.continuous_mass == 0:
            return 0.0
        if x <= 0:
            return self.continuous_mass
        if self._degenerate:
            return 0.5 * math.erfc(math.sqrt(x / (2 * self._scale)))
        knot = max(x, self._knot)
        return (self._integral(x, knot) if knot > x else 0.0) + self._integral(knot, math.inf)

    def _cdf(self, x):
        x = np.asarray(x, dtype=np.float64)
        return np.minimum(np.vectorize(self._cdf_one, otypes=[float])(x), self.continuous_mass)

    def _sf(self, x):
        x = np.asarray(x, dtype=np.float64)
        return np.minimum(np.vectorize(self._sf_one, otypes=[float])(x), self.continuous_mass)

    def _solve(self, f, p):
        """``x > 0`` with ``f(x) = p`` for a monotone ``f`` of the continuous part (Brent, bracket doubled)."""
        hi = self._scale
        lo = 0.0
        rising = f(hi) > f(lo)
        while (f(hi) < p) if rising else (f(hi) > p):
            lo, hi = hi, 2.0 * hi
        return optimize.brentq(lambda x: f(x) - p, lo, hi, xtol=1e-300, rtol=1e-15, maxiter=200)

    def _ppf(self, p):
        return np.array([self._solve(self._cdf_one, float(q)) for q in np.ravel(p)]).reshape(np.shape(p))

    def _isf(self, p):
        return np.array([self._solve(self._sf_one, float(q)) for q in np.ravel(p)]).reshape(np.shape(p))

    def _moment(self, order):
        r = self.rho
        if order == 1:
            return _mean_product(self.v11, self.v22, self.v12)
        if order == 2:
            # E[relu(h1)^2 relu(h2)^2] = v11 v22 ((1 + 2 r^2)(pi - arccos r) + 3 r sqrt(1 - r^2)) / (2 pi)
            return self.v11 * self.v22 * ((1 + 2 * r * r) * (math.pi - math.acos(r))
                                          + 3 * r * math.sqrt(max(1 - r * r, 0.0))) / (2 * math.pi)
        if self.continuous_mass == 0:
            return 0.0
        f = lambda s: s ** order * float(self._pdf(np.array([s]))[0])  # noqa: E731
        quad = lambda lo, hi: integrate.quad(f, lo, hi, limit=400, epsabs=0.0, epsrel=1e-12)[0]  # noqa: E731
        return quad(0.0, self._knot) + quad(self._knot, math.inf)

    def _rvs(self, size, rng):
        # h1 = s1 g1, h2 = s2 (rho g1 + sqrt(1 - rho^2) g2): the pair exactly, then the product of relus
        g1, g2 = rng.standard_normal(size), rng.standard_normal(size)
        s1, s2 = math.sqrt(self.v11), math.sqrt(self.v22)
        h1 = s1 * g1
        h2 = s2 * (self.rho * g1 + math.sqrt(max(1 - self.rho ** 2, 0.0)) * g2)
        return np.maximum(h1, 0.0) * np.maximum(h2, 0.0)


def product_law(v11, v22, v12):
    """The law of ``relu(h1) relu(h2)`` for ``(h1, h2) ~ N(0, V)`` (Thm. 5, derived; see :class:`ProductLaw`)."""
    return ProductLaw(v11, v22, v12)
