r"""What the activation-length analyses share (:mod:`sigdist.lengths`, :mod:`sigdist.residual_lengths`,
:mod:`sigdist.length_bounds`): the input's statistics, log-space arithmetic that stays exact past float64,
and the :math:`O(d)` mean of the empirical variance across layers (Hanin & Rolnick 2018, §3.3).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ._numba import njit
from ._warnings import SigdistWarning

__all__ = ["LOG_MAX", "empirical_variance_log", "empirical_variance_value", "exp_checked", "input_statistics",
           "lae", "lae_signed", "log0", "log_suffix_gains"]

#: ``log`` of the largest float64: a log above it is returned as ``inf`` with a warning.
LOG_MAX = math.log(np.finfo(np.float64).max)


def input_statistics(y0, x0, input_width, need_fourth):
    r"""``(Y_0, P_0 or None, n_0 or None)``: :math:`Y_0 = |x_0|^2`, :math:`P_0 = \sum_k x_{0,k}^4`.

    ``x0`` (the input vector) gives both; ``y0`` (the squared input norm) only :math:`Y_0`, enough when the
    first layer's weights are Gaussian (``need_fourth`` False); neither means :math:`M_0 = 1`,
    :math:`Y_0 = n_0`. Raises ValueError naming the argument before any work.
    """
    if y0 is not None and x0 is not None:
        raise ValueError("give the input as y0 (its squared norm) or as x0 (the vector), not both")
    if x0 is not None:
        try:
            x = np.asarray(x0, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"x0 must be a finite input vector, got {x0!r}") from None
        if x.ndim != 1 or x.size == 0 or not np.all(np.isfinite(x)):
            raise ValueError(f"x0 must be a finite input vector (one dimension, at least one entry), "
                             f"got shape {np.shape(x0)}")
        if input_width is not None and x.size != input_width:
            raise ValueError(f"x0 must have the network's input width {input_width}, got {x.size}")
        return float(x @ x), float(np.sum(x ** 4)), x.size
    if y0 is None:
        if input_width is None:
            raise ValueError("y0=None means M_0 = 1 (|x0|^2 = n_0) and needs the network's input_width; "
                             "pass y0 (the squared input norm) or x0 (the input vector)")
        y0 = float(input_width)
    else:
        if np.ndim(y0) != 0:
            raise ValueError(f"y0 is the squared input norm (a number), got an array of shape {np.shape(y0)}; "
                             "pass the input vector as x0")
        if isinstance(y0, (bool, np.bool_)):
            raise ValueError(f"y0 (the squared input norm |x0|^2) must be a finite number >= 0, got {y0!r}")
        try:
            value = float(y0)
        except (TypeError, ValueError):
            raise ValueError(f"y0 (the squared input norm |x0|^2) must be a finite number >= 0, got {y0!r}") from None
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"y0 (the squared input norm |x0|^2) must be a finite number >= 0, got {y0!r}")
        y0 = value
    if need_fourth:  # a norm alone does not determine sum_k x0_k^4
        raise ValueError("the first layer's weights are not Gaussian: its second moments depend on the input "
                         "vector through sum_k x0_k^4, not only on its norm; pass x0=<the input vector>")
    return y0, None, input_width


def log0(x):
    """``log x`` elementwise with ``log 0 = -inf`` (no warning)."""
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(x, dtype=np.float64))


def exp_checked(log_values, name):
    """``exp`` of exact logs; values past float64 become ``inf`` with a SigdistWarning naming the field."""
    if np.any(log_values > LOG_MAX):
        warnings.warn(f"{name} exceeds float64 from layer {int(np.argmax(log_values > LOG_MAX)) + 1} on: returned "
                      f"as inf (its log is exact: log_{name})", SigdistWarning, stacklevel=3)
    with np.errstate(over="ignore"):
        return np.exp(log_values)


@njit
def lae(a, b):
    """log(exp(a) + exp(b)) with -inf allowed."""
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


@njit
def lae_signed(a, b, sign):
    """log(exp(a) + sign * exp(b)), the result known to be >= 0 (clipped at -inf)."""
    if sign >= 0:
        return lae(a, b)
    if b == -np.inf:
        return a
    if b >= a:
        return -np.inf
    return a + math.log1p(-math.exp(b - a))


@njit
def log_suffix_gains(log_gains):
    """log A_i, A_i = sum_{j>i} prod_{k=i+1}^j alpha_k, by A_d = 0, A_i = alpha_{i+1} (1 + A_{i+1})."""
    d = log_gains.shape[0]
    out = np.empty(d)
    out[d - 1] = -np.inf
    for i in range(d - 2, -1, -1):
        out[i] = log_gains[i + 1] + lae(0.0, out[i + 1])
    return out


def _logsumexp_signed(logs, signs):
    """``log |sum_i signs_i exp(logs_i)|`` and its sign."""
    logs = np.asarray(logs, dtype=np.float64)
    finite = np.isfinite(logs)
    if not np.any(finite):
        return -np.inf, 0.0
    top = np.max(logs[finite])
    total = float(np.sum(signs[finite] * np.exp(logs[finite] - top)))
    if total == 0.0:
        return -np.inf, 0.0
    return top + math.log(abs(total)), math.copysign(1.0, total)


def empirical_variance_log(log_mean, log_var, gains):
    r"""log of :math:`E[\widehat{\mathrm{Var}}[M]]` from the layer means, variances and one-step gains.

    With :math:`E[M_j \mid \mathcal F_{j-1}] = \alpha_j M_{j-1} + b_j`,
    :math:`E\widehat{\mathrm{Var}} = \frac{1}{d^2}\sum_i \mathrm{Var}[M_i](d - 1 - 2A_i) + \widehat{\mathrm{Var}}(E M_j)`,
    :math:`A_i = \sum_{j > i} \prod_{k=i+1}^j \alpha_k` (:math:`A_d = 0`, :math:`A_i = \alpha_{i+1}(1 + A_{i+1})`),
    free of cancellation (Hanin & Rolnick 2018, §3.3).
    """
    d = len(log_mean)
    log_a = log_suffix_gains(log0(gains))
    with np.errstate(divide="ignore"):
        logs = np.concatenate([log_var + math.log(d - 1) if d > 1 else np.full(d, -np.inf),
                               log_var + math.log(2.0) + log_a])
    signs = np.concatenate([np.ones(d), -np.ones(d)])
    # empirical variance of the means: (1/d) sum (E M_j - mean)^2, scaled by the largest mean
    top = np.max(log_mean) if np.any(np.isfinite(log_mean)) else 0.0
    scaled = np.exp(log_mean - top)
    spread = float(np.mean((scaled - scaled.mean()) ** 2))
    with np.errstate(divide="ignore"):
        log_spread = math.log(spread) + 2 * top + 2 * math.log(d) if spread > 0 else -np.inf
    logs = np.append(logs, log_spread)
    signs = np.append(signs, 1.0)
    value, sign = _logsumexp_signed(logs, signs)
    if sign < 0:  # roundoff in a vanishing quantity
        return -np.inf
    return value - 2 * math.log(d)


def empirical_variance_value(log_mean, log_var, gains):
    """:func:`empirical_variance_log` exponentiated (``inf`` with a SigdistWarning past float64)."""
    lv = empirical_variance_log(log_mean, log_var, gains)
    if lv > LOG_MAX:
        warnings.warn("empirical_variance exceeds float64: returned as inf", SigdistWarning, stacklevel=3)
        return math.inf
    return math.exp(lv)
