r"""Exact first and second moments of :math:`|x^{(l)}|^2` (eq. 6 and its second-moment analogue).

For a positively homogeneous activation, :math:`z_l = s_l S_l` with
:math:`s_l = \sigma_{w,l}^2 z_{l-1} + \sigma_{b,l}^2` and :math:`S_l` independent
of :math:`z_{l-1}`, so

.. math::
    E[z_l] &= E[S_l]\,(\sigma_w^2 E[z_{l-1}] + \sigma_b^2), \\
    E[z_l^2] &= E[S_l^2]\,(\sigma_w^4 E[z_{l-1}^2] + 2\sigma_w^2\sigma_b^2 E[z_{l-1}] + \sigma_b^4).

For relu, :math:`S = \chi^2_K`, :math:`K \sim \mathrm{Bin}(N, 1/2)`:
:math:`E[S] = N/2` (which unrolled is eq. 6) and
:math:`E[S^2] = E[K^2 + 2K] = N(N + 5)/4`. For He initialisation
(:math:`\sigma_w^2 = 2/N`, :math:`\sigma_b = 0`) this gives
:math:`E[z_l^2] = (1 + 5/N_l) E[z_{l-1}^2]`. For any other homogeneous ``phi``,
:math:`E[S] = N m_1` and :math:`E[S^2] = N m_2 + N(N-1) m_1^2` with
:math:`m_j = E[\phi(g)^{2j}]`, :math:`g \sim N(0, 1)`.
"""

from __future__ import annotations

import numpy as np

from .network import Network, check_input_norm, require_gaussian_iid

__all__ = ["squared_norm_moments"]


def _unit_moments(layer):
    """``(E[S], E[S^2])`` of ``S = sum_i phi(g_i)^2`` for unit pre-activation variance."""
    n = layer.width
    kind = layer.activation.chi2_kind
    if kind == "binomial":
        return n / 2.0, n * (n + 5) / 4.0
    if kind == "all":
        return float(n), float(n * (n + 2))
    if not layer.activation.homogeneous:
        raise ValueError(
            f"exact moment recursion needs a positively homogeneous activation; got {layer.activation.name!r}")
    m1, m2 = (float(v[0]) for v in layer.activation.squared_moments_many(np.array([1.0])))
    return n * m1, n * m2 + n * (n - 1) * m1 * m1


def squared_norm_moments(network: Network, y0=1.0, y0_sq=None):
    r"""Exact ``E[|x^(l)|^2]`` and ``E[|x^(l)|^4]`` for ``l = 1..L``.

    Parameters
    ----------
    network : Network
        Layers with positively homogeneous activations (relu, leaky_relu, linear, abs).
    y0 : float
        :math:`E|x^{(0)}|^2` (the input squared norm when it is a point).
    y0_sq : float, optional
        :math:`E|x^{(0)}|^4`; defaults to ``y0**2`` (a point input).

    Returns
    -------
    mean, second_moment : ndarray, shape (L,)

    References
    ----------
    Burkholz & Dubatovka (2019), eq. 5 and 6; the second moment is derived in the module docstring.
    """
    for layer in network:
        require_gaussian_iid(layer)
    y0 = check_input_norm(y0, "y0")
    m1 = y0
    m2 = y0 * y0 if y0_sq is None else check_input_norm(y0_sq, "y0_sq")
    means, seconds = [], []
    for layer in network:
        e1, e2 = _unit_moments(layer)
        w, b = layer.sigma_w2, layer.sigma_b2
        m1, m2 = e1 * (w * m1 + b), e2 * (w * w * m2 + 2 * w * b * m1 + b * b)
        means.append(m1)
        seconds.append(m2)
    return np.array(means), np.array(seconds)
