r"""The one registry of weight laws: their moments and their samplers (numpy, numba and torch).

A weight law is the law of one entry ``w = sqrt(sigma_w2) * u`` of a weight matrix, where ``u``
is drawn from the registered standard form below. Every part of sigdist that draws, or needs a
moment of, a weight reads it here: the Monte Carlo engine, the batch-norm chain, the length
moments of Hanin & Rolnick (2018) (which need the standardised fourth moment ``kappa``).

======================  ============================================  ===================  =========
name                    ``u``                                         ``Var u``            ``kappa``
======================  ============================================  ===================  =========
``"gaussian"``          ``N(0, 1)``                                   1                    3
``"uniform"``           ``U[-sqrt 3, sqrt 3]``                        1                    9/5
``"truncated_normal"``  ``N(0, 1)`` cut to ``[-2, 2]``, not rescaled  0.77374 (see below)  2.3655
``"orthogonal"``        ``sqrt(max(r, c))`` times a Haar (semi-)      1                    None
                        orthogonal ``r x c`` matrix
======================  ============================================  ===================  =========

The truncated normal is PyTorch's ``trunc_normal_(std=s, a=-2 s, b=2 s)`` (and Keras <= 2.1's
``he_normal``): its variance is ``TRUNCATED_NORMAL_VARIANCE_FACTOR * s^2``, not ``s^2``.

``"orthogonal"`` is the one law whose entries are not independent: a draw of shape ``(..., r, c)`` is a
stack of matrices ``sqrt(max(r, c)) Q`` with ``Q`` Haar-distributed with orthonormal columns (``r >= c``)
or rows (``r < c``), by QR of a Gaussian matrix with Mezzadri's (2007) sign fix. Each entry has variance 1,
so ``sqrt(sigma_w2) u`` is ``torch.nn.init.orthogonal_`` with ``gain**2 = sigma_w2 max(r, c)`` (Saxe et al.
2014; Pennington et al. 2017). A one-axis shape ``(k,)`` is one row: ``sqrt(k)`` times a uniform unit vector.
Its ``kurtosis`` is None: the laws that need i.i.d. entries refuse it. It lives in ``MATRIX_LAWS``, not in
``WEIGHT_LAWS`` (the laws of i.i.d. entries); :func:`get_weight_law` reads both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._numba import njit
from ._random import numpy_generator

__all__ = ["WeightLaw", "WEIGHT_LAWS", "MATRIX_LAWS", "get_weight_law", "TRUNCATED_NORMAL_VARIANCE_FACTOR",
           "TRUNCATED_NORMAL_FOURTH_MOMENT"]

_SQRT3 = math.sqrt(3.0)
_CUT = 2.0
_LO = 0.5 * math.erfc(_CUT / math.sqrt(2.0))  # Phi(-2)


def _truncated_normal_moments(c):
    # E[g^2 | |g| <= c] = 1 - 2 c phi(c) / (2 Phi(c) - 1);  E[g^4 | |g| <= c] = 3 - 2 (c^3 + 3 c) phi(c) / (2 Phi(c) - 1)
    phi = math.exp(-0.5 * c * c) / math.sqrt(2 * math.pi)
    mass = math.erf(c / math.sqrt(2.0))
    return 1.0 - 2.0 * c * phi / mass, 3.0 - 2.0 * (c ** 3 + 3.0 * c) * phi / mass


#: ``E[g^2 | |g| <= 2]`` for ``g ~ N(0, 1)``: 0.77374...
TRUNCATED_NORMAL_VARIANCE_FACTOR, TRUNCATED_NORMAL_FOURTH_MOMENT = _truncated_normal_moments(_CUT)


@njit(nogil=True)
def _fill_gaussian(rng, out):
    # numba's Generator runs numpy's own ziggurat on the same bit generator: the numbers equal
    # rng.standard_normal(out.size), three times faster than numpy's per-call fill loop
    for i in range(out.size):
        out[i] = rng.standard_normal()


@njit(nogil=True)
def _fill_uniform(rng, out):
    for i in range(out.size):
        out[i] = _SQRT3 * (2.0 * rng.random() - 1.0)


def _numpy_truncated(rng, shape):
    # inverse CDF on [Phi(-2), Phi(2)]: the same construction as the torch sampler
    from scipy import special

    u = rng.random(shape)
    return special.ndtri(_LO + (1.0 - 2.0 * _LO) * u)


def _torch_gaussian(gen, shape, dtype, device):
    import torch

    return torch.randn(shape, generator=gen, dtype=dtype, device=device)


def _torch_uniform(gen, shape, dtype, device):
    import torch

    return _SQRT3 * (2.0 * torch.rand(shape, generator=gen, dtype=dtype, device=device) - 1.0)


def _torch_truncated(gen, shape, dtype, device):
    import torch

    u = torch.rand(shape, generator=gen, dtype=dtype, device=device)
    return math.sqrt(2.0) * torch.erfinv(2.0 * (_LO + (1.0 - 2.0 * _LO) * u) - 1.0)


def _matrix_shape(shape):
    shape = tuple(int(k) for k in shape)
    return shape if len(shape) >= 2 else (1, *shape)


def _numpy_orthogonal(rng, shape):
    full = _matrix_shape(shape)
    rows, cols = full[-2:]
    if 0 in full:
        return np.zeros(shape)
    g = rng.standard_normal((*full[:-2], max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(g)
    q = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]
    q = q if rows >= cols else np.swapaxes(q, -1, -2)
    return (math.sqrt(max(rows, cols)) * q).reshape(shape)


def _torch_orthogonal(gen, shape, dtype, device):
    import torch

    full = _matrix_shape(shape)
    rows, cols = full[-2:]
    if 0 in full:
        return torch.zeros(shape, dtype=dtype, device=device)
    g = torch.randn((*full[:-2], max(rows, cols), min(rows, cols)), generator=gen, dtype=torch.float64,
                    device=device)
    q, r = torch.linalg.qr(g)
    q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)
    q = q if rows >= cols else q.transpose(-1, -2)
    return (math.sqrt(max(rows, cols)) * q).reshape(shape).to(dtype)


@dataclass(frozen=True, eq=False)
class WeightLaw:
    r"""A symmetric weight law in its standard form ``u`` (a weight is ``sqrt(sigma_w2) * u``).

    Attributes
    ----------
    name : str
    variance_factor : float
        ``E[u^2]``: the actual weight variance is ``variance_factor * sigma_w2``.
    kurtosis : float or None
        The standardised fourth moment ``kappa = E[u^4] / E[u^2]^2`` (None when unknown, a user's sampler, or
        when the entries are not independent, ``"orthogonal"``).
    """

    name: str
    variance_factor: float
    kurtosis: float | None
    _numpy: Callable | None
    _torch: Callable
    _fill: Callable | None = None

    def __repr__(self):
        return f"WeightLaw({self.name!r})"

    def sample(self, seed, shape):
        """Draws of ``u`` of the given shape (``seed``: any seed; a numpy Generator continues its stream)."""
        rng = numpy_generator(seed)
        if self._fill is not None:
            out = np.empty(shape)
            self._fill(rng, out.reshape(-1))
            return out
        if self._numpy is None:
            raise ValueError(f"weight law {self.name!r} has only a torch sampler")
        return self._numpy(rng, shape)

    def fill(self, seed, out):
        """Fill a contiguous float64 array with draws of ``u`` (numba where the law has a kernel)."""
        rng = numpy_generator(seed)
        if self._fill is not None:
            self._fill(rng, out.reshape(-1))
        else:
            out[...] = self.sample(rng, out.shape)

    def sample_torch(self, gen, shape, dtype, device):
        """Draws of ``u`` as a torch tensor from a ``torch.Generator``."""
        import torch

        out = torch.as_tensor(self._torch(gen, tuple(shape), dtype, device), dtype=dtype, device=device)
        if tuple(out.shape) != tuple(shape):
            raise ValueError(f"weight_law sampler {self.name!r} returned shape {tuple(out.shape)}, "
                             f"expected {tuple(shape)}")
        return out


WEIGHT_LAWS = {
    "gaussian": WeightLaw("gaussian", 1.0, 3.0, lambda rng, shape: rng.standard_normal(shape), _torch_gaussian,
                          _fill_gaussian),
    "uniform": WeightLaw("uniform", 1.0, 1.8, lambda rng, shape: rng.uniform(-_SQRT3, _SQRT3, shape),
                         _torch_uniform, _fill_uniform),
    "truncated_normal": WeightLaw("truncated_normal", TRUNCATED_NORMAL_VARIANCE_FACTOR,
                                  TRUNCATED_NORMAL_FOURTH_MOMENT / TRUNCATED_NORMAL_VARIANCE_FACTOR ** 2,
                                  _numpy_truncated, _torch_truncated),
}

#: laws of a whole matrix, not of i.i.d. entries: kept out of WEIGHT_LAWS (whose every law has a kurtosis)
MATRIX_LAWS = {"orthogonal": WeightLaw("orthogonal", 1.0, None, _numpy_orthogonal, _torch_orthogonal)}


def get_weight_law(spec, name="weight_law") -> WeightLaw:
    """The :class:`WeightLaw` of a registered name, a WeightLaw, or a callable torch sampler.

    A callable ``f(generator, shape) -> torch.Tensor`` must return symmetric draws of unit
    variance; its fourth moment is unknown (``kurtosis=None``).
    """
    if isinstance(spec, WeightLaw):
        return spec
    if isinstance(spec, str):
        if spec in MATRIX_LAWS:
            return MATRIX_LAWS[spec]
        if spec not in WEIGHT_LAWS:
            raise ValueError(f"{name} must be one of {', '.join([*WEIGHT_LAWS, *MATRIX_LAWS])} or a callable "
                             f"sampler, got {spec!r}")
        return WEIGHT_LAWS[spec]
    if callable(spec):
        return WeightLaw(getattr(spec, "__name__", "callable"), 1.0, None, None,
                         lambda gen, shape, dtype, device, f=spec: f(gen, shape))
    raise ValueError(f"{name} must be one of {', '.join([*WEIGHT_LAWS, *MATRIX_LAWS])} or a callable sampler, "
                     f"got {spec!r}")
