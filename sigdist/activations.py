"""Activations, and the law of ``phi(h)^2`` for ``h ~ N(0, s)`` (Prop. 1).

For every activation the squared post-activation ``X = phi(sqrt(s) g)^2`` with
``g ~ N(0, 1)`` is what a layer sums over its units (Burkholz & Dubatovka 2019,
Prop. 1). Two families have exact laws that sigdist exploits:

* ``chi2 mixtures``: relu (``X = s g^2 1{g > 0}``), linear and abs
  (``X = s g^2``). The sum over ``N`` units is ``s * chi2_K`` with
  ``K ~ Binomial(N, 1/2)`` (relu) or ``K = N`` (linear, abs); leaky relu / PReLU
  of slope ``a`` gives ``s (chi2_K + a^2 chi2_{N-K})``, a scale mixture of ``chi2_N``
  (:mod:`sigdist.leaky`; only ``a^2`` enters, so ``a < 0`` has the law of ``|a|``).
* positively homogeneous activations (relu, leaky_relu, linear, abs):
  ``X = s * phi(g)^2``, so the law of the layer's sum scales with ``s`` and the
  operator is a Mellin convolution when ``sigma_b = 0``.

Every other activation (tanh, erf, gelu, silu, sigmoid, softplus, sin, user callables)
goes through :mod:`sigdist.fourier` (the characteristic function of ``X``);
:meth:`Activation.squared_lattice`, which discretises the law of ``X`` on a lattice by
locally mean-preserving (linear) splitting of the exact cell masses, is the independent
cross-check (``method="lattice"``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special

__all__ = ["Activation", "get_activation", "invert_monotone", "KNOWN_ACTIVATIONS"]

# Beyond |g| = 12 the standard normal has mass 2 * 1.8e-33: the discretisation ignores it
# (and counts it in the lost mass).
_G_MAX = 12.0
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(16)
_GL_MANY_NODES, _GL_MANY_WEIGHTS = np.polynomial.legendre.leggauss(200)


def _relu(h):
    return np.maximum(h, 0.0)


def _gelu(h):
    return h * special.ndtr(h)


def _silu(h):
    return h * special.expit(h)


def _softplus(h):
    h = np.asarray(h, dtype=np.float64)
    return np.logaddexp(0.0, h)


@dataclass(frozen=True, eq=False)
class Activation:
    """An activation function ``phi`` with what sigdist knows about it.

    Parameters
    ----------
    name : str
        Display name.
    phi : callable
        Vectorised ``phi(h)``.
    homogeneous : bool
        ``phi(c h) = c phi(h)`` for every ``c > 0``.
    chi2_kind : {"binomial", "all", "leaky", None}
        ``"binomial"``: ``sum_i phi(h_i)^2 = s chi2_K`` with ``K ~ Bin(N, 1/2)``
        (relu); ``"all"``: ``K = N`` (linear, abs); ``"leaky"``: ``s (chi2_K + a^2 chi2_{N-K})``
        with the slope ``a = -phi(-1)`` (leaky relu); None: no exact chi2 form (the Fourier route).
    torch_phi : callable, optional
        ``phi`` on torch tensors (the built-ins have one; a user's callable is run on numpy
        arrays by :meth:`torch`).
    """

    name: str
    phi: Callable
    homogeneous: bool = False
    chi2_kind: str | None = None
    torch_phi: Callable | None = None

    def __call__(self, h):
        return self.phi(h)

    def checked(self, h):
        """``phi(h)`` as a float64 array of ``h``'s shape; a non-finite value at a finite ``h`` is refused.

        The samplers use it so that a broken callable raises instead of filling results with NaN.
        """
        out = np.asarray(self.phi(h), dtype=np.float64)
        if out.shape != np.shape(h):
            raise ValueError(f"activation {self.name!r} must return an array of its input's shape {np.shape(h)}, "
                             f"got shape {out.shape}")
        bad = ~np.isfinite(out)
        if bad.any() and np.any(bad & np.isfinite(h)):
            raise ValueError(f"activation {self.name!r} returned a non-finite value (nan or inf) at a finite input")
        return out

    def __repr__(self):
        return f"Activation({self.name!r})"

    def torch(self, h):
        """``phi(h)`` for a torch tensor ``h`` (on its device; a user's numpy callable goes through the CPU)."""
        if self.torch_phi is not None:
            return self.torch_phi(h)
        import torch

        return torch.as_tensor(self.checked(h.detach().cpu().numpy()), dtype=h.dtype, device=h.device)

    # -- exact chi2 structure ---------------------------------------------------------------
    def chi2_log_weights(self, width: int):
        """Log-probabilities ``log P(K = k)``, ``k = 0..width``, of the chi2 degrees of freedom.

        Returns None for an activation without an exact chi2-mixture law.
        """
        k = np.arange(width + 1, dtype=np.float64)
        if self.chi2_kind == "binomial":
            logw = special.gammaln(width + 1.0) - special.gammaln(k + 1.0) - special.gammaln(width - k + 1.0)
            # normalised in logs: the gammaln sums are off by O(N eps), which would push CDFs past 1
            return logw - special.logsumexp(logw)
        if self.chi2_kind == "all":
            out = np.full(width + 1, -np.inf)
            out[width] = 0.0
            return out
        return None

    # -- moments of X = phi(sqrt(s) g)^2 -------------------------------------------------------
    def squared_moments_many(self, s):
        """``(E[X], E[X^2])`` for an array of variances ``s`` (Gauss-Legendre on [-12, 0] and [0, 12]).

        Near machine precision for activations smooth away from 0 (the split at 0 takes relu-like kinks).
        """
        s = np.asarray(s, dtype=np.float64)
        g = np.concatenate([-_G_MAX / 2 * (1 + _GL_MANY_NODES), _G_MAX / 2 * (1 + _GL_MANY_NODES)])
        wts = np.concatenate([_GL_MANY_WEIGHTS, _GL_MANY_WEIGHTS]) * (_G_MAX / 2) * np.exp(-0.5 * g * g)
        wts /= math.sqrt(2.0 * math.pi)
        x = self.phi(np.sqrt(s)[:, None] * g[None, :]) ** 2
        return x @ wts, (x * x) @ wts

    def squared_log_moments(self, s, kmax):
        """``log E[X^j]``, ``j = 0..kmax``, of ``X = phi(sqrt(s) g)^2`` for each variance in ``s``.

        The same Gauss-Legendre rule as :meth:`squared_moments_many`, summed in logs so that
        high orders neither overflow nor underflow. Shape ``(len(s), kmax + 1)``.
        """
        s = np.atleast_1d(np.asarray(s, dtype=np.float64))
        g = np.concatenate([-_G_MAX / 2 * (1 + _GL_MANY_NODES), _G_MAX / 2 * (1 + _GL_MANY_NODES)])
        wts = np.concatenate([_GL_MANY_WEIGHTS, _GL_MANY_WEIGHTS]) * (_G_MAX / 2) * np.exp(-0.5 * g * g)
        log_w = np.log(wts / math.sqrt(2.0 * math.pi))
        with np.errstate(divide="ignore"):
            log_x = np.log(self.phi(np.sqrt(s)[:, None] * g[None, :]) ** 2)  # (n_s, n_g)
        j = np.arange(kmax + 1, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            terms = log_w[None, None, :] + j[None, :, None] * log_x[:, None, :]
        terms = np.where(np.isnan(terms), log_w[None, None, :], terms)  # 0^0 = 1
        top = np.max(terms, axis=-1, keepdims=True)
        top = np.where(np.isfinite(top), top, 0.0)
        with np.errstate(divide="ignore"):
            return np.log(np.sum(np.exp(terms - top), axis=-1)) + top[..., 0]

    def critical_values(self, top):
        r"""The critical values of :math:`\phi^2` up to ``top``, to roundoff: its values where it turns (not at a
        zero of ``phi``) or where a plateau, constant to the last bit, ends, and its limits at
        :math:`\pm\infty` (erf's saturation)."""
        pieces = self._pieces_in_g(1.0)
        phi = self.phi
        psi = lambda h: float(phi(np.float64(h))) ** 2  # noqa: E731
        values = []
        for (a1, b1, k1), (a2, b2, k2) in zip(pieces[:-1], pieces[1:]):
            if k1 != 0 and k2 != 0 and k1 != k2:  # a turn (at 0 where phi changes sign there)
                if float(phi(np.float64(b1 - 1e-6))) * float(phi(np.float64(b1 + 1e-6))) > 0:
                    values.append(psi(b1))
            elif (k1 == 0) != (k2 == 0):  # a flat piece's end: singular only if it is flat to the last bit
                a, b = (a1, b1) if k1 == 0 else (a2, b2)
                if psi(a) == psi(b):
                    values.append(psi(b1))
        far, farther = (np.asarray(phi(np.array([-h, h])), dtype=np.float64) ** 2 for h in (30.0, 40.0))
        values += farther[np.abs(farther - far) <= 1e-9 * np.maximum(far, 1.0)].tolist()  # where phi^2 levels off
        values = np.asarray(values, dtype=np.float64)
        # below 1e-20: roundoff of 0 (a limit that is 0)
        return np.unique(values[np.isfinite(values) & (values > 1e-20) & (values <= top)])

    def _pieces_in_g(self, root):
        """Monotone pieces of ``g -> phi(root g)^2`` on ``[-12, 12]``.

        They are those of ``phi^2`` in ``h = root * g``, found once per range of ``h``
        (a power of two) and cached, so that the many variances of one layer share them.
        """
        h_max = 2.0 ** math.ceil(math.log2(_G_MAX * root))
        cache = self.__dict__.setdefault("_piece_cache", {})
        if h_max not in cache:
            cache[h_max] = _monotone_pieces(lambda h: self.phi(h) ** 2, h_max, self.name)
        out = []
        for a, b, kind in cache[h_max]:
            a, b = max(a / root, -_G_MAX), min(b / root, _G_MAX)
            if b > a:
                out.append((a, b, kind))
        return out

    # -- lattice law of X ----------------------------------------------------------------------
    def squared_lattice(self, s: float, spacing: float, size: int):
        """Law of ``X = phi(sqrt(s) g)^2`` on the lattice ``x_j = j * spacing``, ``j < size``.

        The mass of each cell ``[x_j, x_{j+1})`` is split between its two ends so
        that the cell's mean is kept (linear binning). The discretised ``X`` then
        has exactly the mean of ``X`` (up to the mass beyond ``x_{size-1}``), and its
        ``N``-fold convolution has CDF error ``O(spacing^2)``.

        Returns
        -------
        masses : ndarray, shape (size,)
            Lattice masses (including any atom of ``X``).
        atom : float
            ``P(X = 0)``.
        tail : float
            ``P(X > x_{size-1})``, not placed on the lattice.
        """
        root = math.sqrt(s)
        psi = lambda g: self.phi(root * g) ** 2  # noqa: E731
        masses = np.zeros(size)
        atom = 0.0
        tail = 0.0
        edges = spacing * np.arange(size)
        top = edges[-1]
        if root == 0.0:
            pieces = [(-_G_MAX, _G_MAX, 0)]
        else:
            pieces = self._pieces_in_g(root)
        for a, b, kind in pieces:
            pa, pb = float(psi(np.float64(a))), float(psi(np.float64(b)))
            if kind == 0:  # psi constant on [a, b]: an atom of X
                mass = special.ndtr(b) - special.ndtr(a)
                if pa == 0.0:
                    atom += mass
                if pa > top:
                    tail += mass
                else:
                    j = min(int(pa // spacing), size - 2)
                    theta = (pa - edges[j]) / spacing
                    masses[j] += mass * (1.0 - theta)
                    masses[j + 1] += mass * theta
                continue
            lo, hi = (pa, pb) if kind > 0 else (pb, pa)
            if lo > top:  # the whole piece lies past the lattice (no cell edge inside it): all of it is tail
                tail += abs(float(special.ndtr(b) - special.ndtr(a)))
                continue
            # cell edges that fall inside [lo, hi], plus the piece's own ends
            j0 = int(math.floor(lo / spacing))
            j1 = int(math.ceil(min(hi, top) / spacing))
            cuts = np.clip(spacing * np.arange(j0, j1 + 1, dtype=np.float64), lo, min(hi, top))
            g_cut = invert_monotone(psi, a, b, kind, cuts)
            if hi > top:
                g_top = g_cut[-1]
                tail += abs(float(special.ndtr(b) - special.ndtr(g_top))) if kind > 0 else abs(
                    float(special.ndtr(g_top) - special.ndtr(a)))
            gl, gr = g_cut[:-1], g_cut[1:]
            mass = np.abs(special.ndtr(gr) - special.ndtr(gl))
            half = 0.5 * (gr - gl)
            mid = 0.5 * (gr + gl)
            nodes = mid[:, None] + half[:, None] * _GL_NODES[None, :]
            first = np.abs(half) * (
                psi(nodes) * np.exp(-0.5 * nodes * nodes) @ _GL_WEIGHTS
            ) / math.sqrt(2.0 * math.pi)
            cells = np.arange(j0, j0 + len(mass))
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(mass > 0, first / np.where(mass > 0, mass, 1.0), edges[np.minimum(cells, size - 1)])
            theta = np.clip((mean - spacing * cells) / spacing, 0.0, 1.0)
            np.add.at(masses, np.minimum(cells, size - 1), mass * (1.0 - theta))
            np.add.at(masses, np.minimum(cells + 1, size - 1), mass * theta)
        return masses, atom, tail + 2.0 * special.ndtr(-_G_MAX)


def _monotone_pieces(psi, g_max, name="phi", n_samples=16001):
    """Split ``[-g_max, g_max]`` into pieces where ``psi`` is constant (0), increasing (+1) or decreasing (-1)."""
    from scipy import optimize

    g = np.linspace(-g_max, g_max, n_samples)
    v = psi(g)
    if not np.all(np.isfinite(v)):
        raise ValueError(f"activation {name!r} returned non-finite values on [-{g_max:g}, {g_max:g}]")
    d = np.diff(v)
    scale = max(np.max(np.abs(v)), 1e-300)
    sign = np.where(np.abs(d) <= 1e-15 * scale, 0, np.sign(d)).astype(int)
    pieces = []
    start = 0
    for i in range(1, len(sign) + 1):
        if i == len(sign) or sign[i] != sign[start]:
            pieces.append([g[start], g[i], int(sign[start])])
            start = i
    # refine the boundaries between a rising and a falling piece to the extremum (to a tolerance relative to
    # the range: for a variance of 1e-30 the whole range is 1e-14 wide)
    for p, q in zip(pieces[:-1], pieces[1:]):
        if p[2] != 0 and q[2] != 0 and p[2] != q[2]:
            lo, hi = p[0] + 0.5 * (p[1] - p[0]), q[0] + 0.5 * (q[1] - q[0])
            sgn = p[2]
            res = optimize.minimize_scalar(lambda t: -sgn * float(psi(np.float64(t))), bounds=(lo, hi),
                                           method="bounded", options={"xatol": min(1e-13, 1e-14 * g_max)})
            p[1] = q[0] = float(res.x)
    return [tuple(p) for p in pieces if p[1] > p[0]]


def invert_monotone(psi, a, b, kind, targets):
    """Vectorised bisection: ``g`` in ``[a, b]`` with ``psi(g) = target`` for a monotone piece."""
    lo = np.full(targets.shape, a, dtype=np.float64)
    hi = np.full(targets.shape, b, dtype=np.float64)
    for _ in range(64):
        mid = 0.5 * (lo + hi)
        below = (psi(mid) < targets) if kind > 0 else (psi(mid) > targets)
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def _leaky(slope):
    return lambda h: np.where(h > 0, h, slope * h)


def _torch_op(name, slope=0.0):
    # the torch forms are looked up at call time: torch is an optional dependency
    def apply(h):
        import torch

        if name == "relu":
            return torch.relu(h)
        if name == "leaky_relu":
            return torch.where(h > 0, h, slope * h)
        if name == "linear":
            return h
        if name == "gelu":
            return torch.nn.functional.gelu(h)
        if name in ("silu", "softplus"):
            return getattr(torch.nn.functional, name)(h)
        return getattr(torch, name)(h)  # abs, tanh, erf, sigmoid, sin
    return apply


# the one activation registry: numpy form, exact structure and torch form together
_BUILTIN = {
    "relu": lambda slope: Activation("relu", _relu, homogeneous=True, chi2_kind="binomial",
                                     torch_phi=_torch_op("relu")),
    # S = chi2_K + a^2 chi2_{N-K} (sigdist.leaky): slope 0 is relu's law and |slope| = 1 linear's, exactly
    "leaky_relu": lambda slope: Activation(f"leaky_relu({slope:g})", _leaky(slope), homogeneous=True,
                                           chi2_kind=("binomial" if slope == 0.0 else "all" if abs(slope) == 1.0
                                                      else "leaky"),
                                           torch_phi=_torch_op("leaky_relu", slope)),
    "linear": lambda slope: Activation("linear", lambda h: np.asarray(h, dtype=np.float64) * 1.0,
                                       homogeneous=True, chi2_kind="all", torch_phi=_torch_op("linear")),
    "abs": lambda slope: Activation("abs", np.abs, homogeneous=True, chi2_kind="all", torch_phi=_torch_op("abs")),
    "tanh": lambda slope: Activation("tanh", np.tanh, torch_phi=_torch_op("tanh")),
    "erf": lambda slope: Activation("erf", special.erf, torch_phi=_torch_op("erf")),
    "gelu": lambda slope: Activation("gelu", _gelu, torch_phi=_torch_op("gelu")),
    "silu": lambda slope: Activation("silu", _silu, torch_phi=_torch_op("silu")),
    "sigmoid": lambda slope: Activation("sigmoid", special.expit, torch_phi=_torch_op("sigmoid")),
    "softplus": lambda slope: Activation("softplus", _softplus, torch_phi=_torch_op("softplus")),
    "sin": lambda slope: Activation("sin", np.sin, torch_phi=_torch_op("sin")),
}
# other names for the same activations (PyTorch's and the literature's)
_ALIASES = {"swish": "silu", "prelu": "leaky_relu", "identity": "linear"}
KNOWN_ACTIVATIONS = tuple(_BUILTIN)


@functools.lru_cache(maxsize=256)
def _builtin(key, slope):
    # one object per built-in activation (and slope): layers that name the same activation compare equal
    return _BUILTIN[key](slope)


def get_activation(spec, negative_slope: float = 0.01) -> Activation:
    """Return the :class:`Activation` for a name, an Activation, or a callable.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones) or a bad slope.
    """
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str):
        key = _ALIASES.get(spec.lower(), spec.lower())
        if key not in _BUILTIN:
            raise ValueError(f"activation must be one of {', '.join(KNOWN_ACTIVATIONS)} or a callable, got {spec!r}")
        # any finite slope: the law depends on a^2 only, so a < 0 (PReLU) has the law of |a|
        try:
            slope = float(negative_slope)
        except (TypeError, ValueError):
            raise ValueError(f"negative_slope must be a finite number, got {negative_slope!r}") from None
        if key == "leaky_relu" and not math.isfinite(slope):
            raise ValueError(f"negative_slope must be a finite number, got {negative_slope!r}")
        return _builtin(key, slope if key == "leaky_relu" else 0.0)
    if callable(spec):
        return _user_activation(spec)
    raise ValueError(f"activation must be one of {', '.join(KNOWN_ACTIVATIONS)} or a callable, got {spec!r}")


def _user_activation(func):
    """A user's ``phi`` as an :class:`Activation`, checked on the Gaussian's support before any work.

    A callable that only takes scalars (``math.tanh``) is wrapped with :func:`numpy.vectorize`
    (correct, slower). Refused with a ``ValueError`` naming the activation: a callable that fails on
    numbers, returns non-finite values, or whose ``phi(h)^2`` has no finite mean under ``N(0, s)`` (grows
    too fast for the Gaussian to tame it on ``|h| <= 40``).
    """
    name = getattr(func, "__name__", type(func).__name__)
    probe = np.linspace(-40.0, 40.0, 4001)
    phi = lambda h, f=func: np.asarray(f(np.asarray(h, dtype=np.float64)), dtype=np.float64)  # noqa: E731
    try:
        values = phi(probe)
        if values.shape != probe.shape:
            raise TypeError("shape")
    except Exception:  # noqa: BLE001 - any failure on arrays: try it number by number
        scalar = np.vectorize(lambda x, f=func: float(f(float(x))), otypes=[np.float64])
        try:
            values = scalar(probe)
        except Exception as err:  # noqa: BLE001
            raise ValueError(f"activation {name!r} cannot be evaluated on real numbers: {err}") from None
        phi = lambda h, f=scalar: f(np.asarray(h, dtype=np.float64))  # noqa: E731
    bad = ~np.isfinite(values)
    if bad.any():
        where = float(probe[np.argmax(bad)])
        raise ValueError(f"activation {name!r} returned a non-finite value (nan or inf) at h = {where:g}: "
                         "phi must be finite on the Gaussian's support")
    # phi(h)^2 e^{-h^2 / (2 s)} must die out: phi^2 ~ e^{2 c h^2} has E[phi^2] = inf for s >= 1 / (4c). From
    # |h| = 20 to 40, log phi^2 gains 2400 c; a polynomial of degree p gains 1.4 p, an exponential 40 a
    with np.errstate(over="ignore", divide="ignore"):
        log_sq = 2.0 * np.log(np.maximum(np.abs(values), 1e-300))
    at = lambda x: float(log_sq[int(round((x + 40.0) / 80.0 * (probe.size - 1)))])  # noqa: E731
    gain = max(at(40.0) - at(20.0), at(-40.0) - at(-20.0))
    if gain > 100.0:
        c = gain / 2400.0
        raise ValueError(f"activation {name!r}: phi(h)^2 grows like exp({2 * c:.3g} h^2), so E[phi(h)^2] under "
                         f"N(0, s) is infinite for s >= {1 / (4 * c):.3g}; sigdist needs phi^2 to grow slower "
                         "than any exp(c h^2)")
    return Activation(name, phi)
