r"""Trigonometric sums on many frequencies or many points: direct recurrences, or non-uniform FFTs.

The Fourier route (:mod:`sigdist.fourier`) needs two sums:

* type 1: :math:`F_r(k) = \sum_n w_{rn} e^{i k x_n}`, ``k = 0..K``, for several weight rows ``r``
  (one unit's characteristic function on a frequency grid, from quadrature nodes ``x_n = dt psi_n``);
* type 2: :math:`f(\theta_j) = c_0 + 2\,\mathrm{Re}\sum_{k=1}^K c_k e^{-i k \theta_j}` (a real Fourier series
  at arbitrary angles).

Small sums are done directly, by the recurrence :math:`e^{i(k+1)x} = e^{ikx} e^{ix}` (two complex
multiplications a term, roundoff growing like ``k eps``). Large ones by Gaussian gridding (Greengard &
Lee 2004, SIAM Rev. 46): oversampling 2 and 14 grid points each side, relative accuracy about 1e-13 of
the total weight (tests/test_fourier_transforms.py), at ``O(n + K log K)`` instead of ``O(n K)``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import fft

from ._numba import njit

__all__ = ["unit_transform", "trig_values"]

_SPREAD = 14


def _parameters(k_max):
    modes = 2 * (k_max + 1)
    m_r = fft.next_fast_len(2 * modes)
    tau = math.pi * _SPREAD / (modes * modes * 2.0 * 1.5)
    return m_r, tau


def unit_transform(psi, weights, dt, k_max):
    """``sum_n weights[r, n] exp(i k dt psi_n)`` for ``k = 0..k_max`` and every row ``r``: shape
    ``(rows, k_max + 1)``."""
    weights = np.ascontiguousarray(np.atleast_2d(weights), dtype=np.float64)
    if psi.size * (k_max + 1) <= 400_000:
        return transform_rows(psi, weights, dt, k_max)
    m_r, tau = _parameters(k_max)
    grid = spread_rows(np.mod(dt * psi, 2.0 * math.pi), weights, m_r, _SPREAD, tau)
    k = np.arange(k_max + 1)
    return np.fft.ifft(grid, axis=1)[:, : k_max + 1] * (np.sqrt(math.pi / tau) * np.exp(k * k * tau))[None, :]


def trig_values(c, theta):
    r""":math:`c_0 + 2\,\mathrm{Re} \sum_{k \ge 1} c_k e^{-i k \theta_j}` at the angles ``theta``."""
    theta = np.ascontiguousarray(theta, dtype=np.float64)
    k_max = c.size - 1
    if k_max * theta.size <= 2_000_000:
        return trig_direct(c, theta)
    m_r, tau = _parameters(k_max)
    k = np.arange(k_max + 1)
    deconv = c * np.sqrt(math.pi / tau) * np.exp(k * k * tau)
    a = np.zeros(m_r, dtype=complex)
    a[: k_max + 1] = deconv
    a[m_r - k_max:] = np.conj(deconv[1:])[::-1]  # the negative frequencies: the series is real
    return gather(np.mod(theta, 2.0 * math.pi), np.fft.fft(a).real, m_r, _SPREAD, tau) / m_r


@njit
def transform_rows(psi, w, dt, k_max):
    """The direct recurrence of :func:`unit_transform`."""
    n = psi.shape[0]
    rows = w.shape[0]
    out = np.zeros((rows, k_max + 1), dtype=np.complex128)
    for j in range(n):
        zr = math.cos(dt * psi[j])
        zi = math.sin(dt * psi[j])
        vr = 1.0
        vi = 0.0
        for k in range(k_max + 1):
            for r in range(rows):
                out[r, k] += w[r, j] * complex(vr, vi)
            t = vr * zr - vi * zi
            vi = vr * zi + vi * zr
            vr = t
    return out


@njit
def spread_rows(x, w, m_r, spread, tau):
    """``sum_n w[r, n] sum_l exp(-(xi_j - x_n - 2 pi l)^2 / (4 tau))`` on ``xi_j = 2 pi j / m_r``."""
    out = np.zeros((w.shape[0], m_r))
    h = 2.0 * math.pi / m_r
    kern = np.empty(2 * spread)
    for n in range(x.shape[0]):
        j0 = int(math.floor(x[n] / h))
        for j in range(2 * spread):
            d = (j0 - spread + 1 + j) * h - x[n]
            kern[j] = math.exp(-d * d / (4.0 * tau))
        for r in range(w.shape[0]):
            wr = w[r, n]
            for j in range(2 * spread):
                out[r, (j0 - spread + 1 + j) % m_r] += wr * kern[j]
    return out


@njit
def gather(x, values, m_r, spread, tau):
    """``sum_j values_j exp(-(xi_j - x_n)^2 / (4 tau))`` over the grid points near each ``x_n``."""
    out = np.empty(x.shape[0])
    h = 2.0 * math.pi / m_r
    for n in range(x.shape[0]):
        j0 = int(math.floor(x[n] / h))
        acc = 0.0
        for j in range(j0 - spread + 1, j0 + spread + 1):
            d = j * h - x[n]
            acc += values[j % m_r] * math.exp(-d * d / (4.0 * tau))
        out[n] = acc
    return out


@njit
def trig_direct(c, theta):
    """The direct recurrence of :func:`trig_values`."""
    out = np.empty(theta.shape[0])
    n = c.shape[0]
    for j in range(theta.shape[0]):
        er = math.cos(theta[j])
        ei = -math.sin(theta[j])
        pr = 1.0
        pi_ = 0.0
        acc = 0.0
        for k in range(1, n):
            r = pr * er - pi_ * ei
            pi_ = pr * ei + pi_ * er
            pr = r
            acc += c[k].real * pr - c[k].imag * pi_
        out[j] = c[0].real + 2.0 * acc
    return out
