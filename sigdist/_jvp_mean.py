r"""Deterministic ``E|J u|^2`` at every depth for any activation: two measures on ``|x|^2`` carried layer to layer.

Notation of :mod:`sigdist.jacobian`: the state ``(y, c, v) = (|x|^2, <x, u>, |u|^2)`` of a layer, ``s = sigma_w2 y
+ sigma_b2``, and unit ``i`` of the next layer sees ``h_i = sqrt(s) z_i`` and ``g_i = a h_i + b xi_i`` with
``a = sigma_w2 c / s``, ``b^2 = sigma_w2 v - a^2 s``, ``xi_i`` standard normal and independent of ``h``. Given
``h``, :math:`E[g_i^2 | h] = \sigma_w^2 v + a^2 (h_i^2 - s)` and :math:`E[g_i g_j | h] = a^2 h_i h_j`
(``i != j``), so with ``d = phi'^2`` and ``p = phi phi'``

.. math:: E[v' \mid h] = \sigma_w^2 v \sum_i d_i + a^2 \sum_i d_i (h_i^2 - s),\qquad
          E[c'^2 \mid h] = \sigma_w^2 v \sum_i p_i^2 + a^2 \Big[\Big(\sum_i p_i h_i\Big)^2 - s \sum_i p_i^2\Big],

both **linear in** ``(v, c^2)`` with coefficients that depend on ``h`` only, as ``y' = sum_i phi(h_i)^2`` does.
Hence the two measures :math:`A_l(dy) = E[v_l; y_l \in dy]` and :math:`C_l(dy) = E[c_l^2; y_l \in dy]` follow a
closed linear recursion,

.. math:: A_{l+1} = \int \big(\sigma_w^2 K_1^s A_l(dy) + \tfrac{\sigma_w^4}{s^2} K_2^s C_l(dy)\big),\qquad
          C_{l+1} = \int \big(\sigma_w^2 K_3^s A_l(dy) + \tfrac{\sigma_w^4}{s^2} K_4^s C_l(dy)\big),

with :math:`K_1^s(dy') = E[\sum d_i; y' \in dy']`, :math:`K_2^s = E[\sum d_i (h_i^2 - s); dy']`,
:math:`K_3^s = E[\sum p_i^2; dy']`, :math:`K_4^s = E[(\sum p_i h_i)^2 - s \sum p_i^2; dy']`, and
:math:`E|J u|^2 = A_L(\mathbb{R})`. The 2-D chain on ``(|x|^2, cos)`` of the issue reduces to two 1-D measures.
Each kernel is a sum over units against the law of ``y'``: ``E[sum_i q(h_i); dy'] = N T_q * P^{*(N-1)}`` and
``E[(sum_i r(h_i))^2; dy'] = N T_{r^2} * P^{*(N-1)} + N(N-1) T_r * T_r * P^{*(N-2)}``, with ``P`` the law of
``phi(h)^2`` and ``T_q`` the same tilted by ``q`` — convolutions done by FFT on a lattice of ``y'``. ``P`` and
``T_q`` come from 400 Gauss-Legendre nodes in ``h`` spread onto the lattice by linear (cloud-in-cell) weights,
which keep each node's mass and mean: the lattice error is second order in its spacing, and the result is
Richardson-extrapolated from ``points`` and ``2 points`` lattice points per unit with that difference as the
error estimate. relu: ``K_2 = 0`` (the sign symmetry of ``docs/jacobian.md`` §2) and the recursion gives
``prod sigma_w2 N / 2`` exactly.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import fft as sfft

__all__ = ["jvp_mean_by_measures"]

_GL_X, _GL_W = np.polynomial.legendre.leggauss(200)
_Z = np.concatenate([6.0 * (_GL_X - 1.0), 6.0 * (_GL_X + 1.0)])  # split at 0: kinks of relu-like phi
_ZW = np.concatenate([_GL_W, _GL_W]) * 6.0 * np.exp(-0.5 * _Z ** 2) / math.sqrt(2.0 * math.pi)


def _spread(positions, weights, delta, size):
    """Cloud-in-cell: masses at ``positions`` onto the lattice ``k delta``, ``k < size`` (mass and mean kept)."""
    t = positions / delta
    k = np.minimum(np.floor(t).astype(np.int64), size - 2)
    frac = t - k
    out = np.zeros(weights.shape[:-1] + (size,))
    for row in np.ndindex(weights.shape[:-1]):
        out[row] = np.bincount(k, weights[row] * (1.0 - frac), size) + np.bincount(k + 1, weights[row] * frac, size)
    return out


def _layer_kernels(layer, s, derivative, delta, size, n_fft):
    """``(K_1, K_2, K_3, K_4)`` on the lattice of ``y'`` for the pre-activation variance ``s``."""
    n = layer.width
    h = math.sqrt(s) * _Z
    phi = layer.activation.checked(h)
    d = derivative(h) ** 2
    p = phi * derivative(h)
    tilts = np.stack([np.ones_like(h), d, d * (h * h - s), p * p, p * h, (p * h) ** 2])
    lat = sfft.rfft(_spread(phi * phi, tilts * _ZW, delta, size), n_fft)
    base = lat[0]
    pow1 = base ** (n - 1)
    pow2 = base ** (n - 2) if n >= 2 else np.zeros_like(base)
    k1 = n * lat[1] * pow1
    k2 = n * lat[2] * pow1
    k3 = n * lat[3] * pow1
    k4 = n * lat[5] * pow1 + n * (n - 1) * lat[4] ** 2 * pow2 - s * k3
    return sfft.irfft(np.stack([k1, k2, k3, k4]), n_fft)


def _run(network, y0, u_cos, points, derivatives):
    ys, A, C = np.array([y0]), np.array([1.0]), np.array([u_cos * u_cos * y0])
    means = []
    for layer, derivative in zip(network, derivatives):
        top = float(np.max(layer.activation.checked(math.sqrt(layer.variance(ys.max())) * _Z) ** 2))
        top = max(top, 1e-300)
        delta = top / points
        size = layer.width * points + 2
        n_fft = sfft.next_fast_len(size + 2)
        newA, newC = np.zeros(size), np.zeros(size)
        total = np.abs(A).sum() + np.abs(C).sum()
        for y, a_mass, c_mass in zip(ys, A, C):
            if abs(a_mass) + abs(c_mass) <= 1e-18 * total:
                continue
            s = layer.variance(y)
            if s <= 0:  # x = 0 and no bias: the layer outputs phi(0) and carries u by phi'(0) W
                k = _layer_kernels(layer, 1e-300, derivative, delta, size, n_fft)[:, :size]
                newA += layer.sigma_w2 * a_mass * k[0]
                newC += layer.sigma_w2 * a_mass * k[2]
                continue
            k = _layer_kernels(layer, s, derivative, delta, size, n_fft)[:, :size]
            scale = layer.sigma_w2 ** 2 / (s * s)
            newA += layer.sigma_w2 * a_mass * k[0] + scale * c_mass * k[1]
            newC += layer.sigma_w2 * a_mass * k[2] + scale * c_mass * k[3]
        ys, A, C = delta * np.arange(size), newA, newC
        means.append(A.sum())
    return np.array(means)


def jvp_mean_by_measures(network, y0, u_cos, points, derivatives):
    """``(E|J u|^2 per layer, error estimate per layer)``: Richardson from ``points`` and ``2 points`` per unit."""
    coarse = _run(network, y0, u_cos, points, derivatives)
    fine = _run(network, y0, u_cos, 2 * points, derivatives)
    best = fine + (fine - coarse) / 3.0
    return best, np.abs(fine - coarse)
