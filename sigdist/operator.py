r"""The transition operator :math:`T_l` (Prop. 1, eq. 1), discretised for accuracy.

:math:`T_l` maps the law of :math:`y = |x^{(l-1)}|^2` to the law of
:math:`z = |x^{(l)}|^2 = s(y) S` with :math:`s(y) = \sigma_w^2 y + \sigma_b^2`.
Three discretisations ("routes"), chosen from the layer:

``"mellin"`` (chi2-mixture activation, :math:`\sigma_b = 0`)
    In :math:`u = \log z` the operator is a convolution,
    :math:`q_l(w) = \int q_{l-1}(u)\, p_{\log S}(w - u - \log\sigma_w^2)\,du`
    (a Mellin convolution in ``z``). Densities of ``log z`` are sampled on uniform
    grids and convolved by FFT; the trapezoid rule on these smooth, rapidly
    decaying integrands converges geometrically in the grid spacing, which is
    chosen from the characteristic function of ``log S``.
``"log-dense"`` (chi2-mixture activation, :math:`\sigma_b > 0`)
    :math:`q_l(w) = \int q_{l-1}(u)\, p_{\log S}(w - g(u))\,du + P(y = 0)\,p_{\log S}(w - \log\sigma_b^2)`
    with :math:`g(u) = \log(\sigma_w^2 e^u + \sigma_b^2)`: the same quadrature, as
    a dense matrix (no longer Toeplitz).
``"fourier"`` (any other activation: tanh, erf, gelu, silu, sigmoid, softplus, sin, callables)
    :math:`q_l(w) = \sum_i h\, q_{l-1}(u_i)\, p_{\log z \mid s(u_i)}(w)` with the kernel of Prop. 1
    from the :math:`N_l`-th power of one unit's characteristic function, inverted on a window
    (:mod:`sigdist.fourier`); geometric convergence for wide layers, each error estimated.
``"lattice"`` (any activation; ``method="lattice"``)
    Prop. 1 literally: the law of :math:`\phi(h)^2` on a lattice in ``z``
    (mean-preserving linear binning), its :math:`N_l`-fold convolution by FFT,
    mixed over the input law. Second-order accurate in the lattice spacing: the
    independent cross-check of the other routes.

Each :math:`T_l` keeps the atom at 0 exactly: ``P(z = 0) = P(S = 0)`` for
``y > 0`` (``2^{-N_l}`` for relu) and, when :math:`\sigma_b = 0`, ``y = 0``
maps to ``z = 0``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from . import _fft
from ._numba import njit
from .grid import LogGrid, LogGridDensity
from .fourier import S_MIN, FourierKernel, conditional_columns, mixed_log_density
from .kernel import Chi2Mixture, walk_from_largest
from .lattice_route import apply_lattice
from .one_step import OneStep
from ._warnings import SigdistWarning
from .laws import SquaredNormLaw
from .moments import MomentChain
from ._checks import check_integer, check_tol
from .network import Layer, require_gaussian_iid

__all__ = ["TransitionOperator", "ComposedOperator"]

class TransitionOperator:
    """The transition operator :math:`T_l` of one layer.

    Parameters
    ----------
    layer : Layer
    grid : LogGrid, optional
        A fixed grid in ``u = log z`` used for both input and output (then
        :meth:`matrix` is square and :meth:`apply` keeps laws on that grid).
        By default grids are sized from each law.
    method : {"auto", "exact", "lattice"}
        ``"auto"``/``"exact"``: the log-grid routes (chi-square for relu, linear and abs; Fourier
        for every other activation); ``"lattice"``: the generic second-order route.
    tol : float
        Accuracy target: sets the grid spacing and the tail mass that may be dropped.
    lattice_size : int
        Lattice points of the generic route.

    Examples
    --------
    >>> from sigdist import Layer, TransitionOperator, squared_norm_law, Network
    >>> T = TransitionOperator(Layer(200, 2 / 200))
    >>> law = T.apply(squared_norm_law(Network.constant(200, 1, 2 / 200)))
    >>> round(law.mean(), 10)
    1.0
    """

    def __init__(self, layer: Layer, grid: LogGrid | None = None, *, method="auto", tol=1e-8,
                 lattice_size=2048):
        if not isinstance(layer, Layer):
            raise ValueError(f"layer must be a sigdist.Layer, got {type(layer).__name__}")
        require_gaussian_iid(layer)
        if method not in ("auto", "exact", "lattice"):
            raise ValueError(f"method must be 'auto', 'exact' or 'lattice', got {method!r}")
        tol = check_tol(tol)
        chi2 = layer.activation.chi2_kind is not None
        self.layer = layer
        self.tol = float(tol)
        self.lattice_size = check_integer(lattice_size, "lattice_size", 16)
        self.mixture = self.fourier = None
        if method == "lattice":
            self.route = "lattice"
        elif chi2:
            self.route = "mellin" if layer.sigma_b2 == 0.0 else "log-dense"
            self.mixture = Chi2Mixture(layer)
        else:
            self.route = "fourier"
            self.fourier = FourierKernel(layer)
        if grid is not None and not isinstance(grid, LogGrid):
            raise ValueError(f"grid must be a sigdist.grid.LogGrid or None, got {type(grid).__name__}")
        if grid is not None and self.route == "lattice":
            raise ValueError("grid (a LogGrid) applies to the log-grid routes; the lattice route sizes its own")
        self.grid = grid
        # log-grid spacing; None until first needed (a Network may impose a common, finer one)
        self.spacing = None
        # this layer's share of the CDF error for aliasing (a Network splits tol * 1e-3 over its layers); the
        # Fourier route's share covers its series and its grid's resolution, estimated, not bounded a priori:
        # tol * 1e-2 a layer keeps its laws within tol at a fraction of the cost
        self.alias_budget = self.tol * (1e-2 if self.route == "fourier" else 1e-3)

    def __repr__(self):
        return f"TransitionOperator({self.layer}, route={self.route!r})"

    # -- accuracy parameters ----------------------------------------------------------------
    def required_spacing(self, eps=None):
        """Log-grid spacing at which this layer's kernel is resolved to ``eps`` (default ``tol * 1e-3``).

        For the Fourier route: the spacing that resolves a chi-square with the layer's width, an upper
        bound that :meth:`apply` narrows for the variances it meets."""
        eps = self.tol * 1e-3 if eps is None else eps
        if self.route == "fourier":
            return float(self.fourier.spacing(self.layer.sigma_w2 + self.layer.sigma_b2, eps)[0])
        if self.mixture is None:
            raise ValueError("the lattice route has no log grid")
        return self.mixture.spacing_for(eps)

    def __matmul__(self, other):
        return ComposedOperator([other, self])

    # -- the kernel sampled on a log grid -------------------------------------------------------
    def _kernel_samples(self, offsets):
        return self.mixture.log_density(offsets)

    def matrix(self, grid: LogGrid | None = None, out=None):
        r"""Dense matrix of :math:`T_l` on a log grid (continuous part to continuous part).

        ``M[j, i] = h * p_{log S}(u_j - g(u_i))`` so that ``q_out = M @ q_in`` for
        densities of ``log z`` sampled on ``grid``; the atom is handled by
        :meth:`apply`. Only the log-grid routes have a matrix. ``out`` (a C-contiguous
        float64 array of shape ``(n, n)``) is filled in place when given.
        """
        if grid is not None and not isinstance(grid, LogGrid):
            raise ValueError(f"grid must be a sigdist.grid.LogGrid or None, got {type(grid).__name__}")
        grid = grid if grid is not None else self.grid
        if grid is None:
            raise ValueError("matrix needs a LogGrid: pass grid= here or to the constructor (the stationary law's "
                             "is sigdist.stationary.default_stationary_grid(op, tol); eigenpairs: sigdist.discrete_eigen)")
        if self.route == "lattice":
            raise ValueError("the lattice route has no matrix; use method='auto'")
        u = grid.points
        h = grid.spacing
        if self.route == "fourier":
            return h * self._fourier_columns(grid, u)
        needed = self.required_spacing()
        if h > needed * (1 + 1e-9):
            warnings.warn(f"grid spacing {h:.4g} is coarser than the {needed:.4g} that resolves this layer's "
                          f"kernel to tol={self.tol:g}: the discretised operator is less accurate than asked",
                          SigdistWarning, stacklevel=2)
        if self.route == "mellin":
            # Toeplitz: only the differences (j - i) h matter
            offsets = np.arange(-(grid.size - 1), grid.size) * h - math.log(self.layer.sigma_w2)
            column = h * self._kernel_samples(offsets)
            if out is None:
                out = np.empty((grid.size, grid.size))
            if out.shape != (grid.size, grid.size) or out.dtype != np.float64 or not out.flags.c_contiguous:
                raise ValueError(f"out must be a C-contiguous float64 array of shape {(grid.size, grid.size)}")
            return _toeplitz_fill(column, out)
        g = np.logaddexp(math.log(self.layer.sigma_w2) + u, math.log(self.layer.sigma_b2))
        return h * self._kernel_samples(u[:, None] - g[None, :])

    def _fourier_columns(self, grid, u_in):
        """Density of ``log z`` on ``grid`` given each input ``log y`` in ``u_in`` (one column each)."""
        layer = self.layer
        with np.errstate(over="ignore"):
            s = np.where(np.isfinite(u_in), layer.sigma_w2 * np.exp(np.where(np.isfinite(u_in), u_in, 0.0)), 0.0)
        return conditional_columns(self.fourier, s + layer.sigma_b2, grid.points, self.alias_budget)

    def atom_given(self, y):
        """``P(z = 0 | y)`` for each ``y`` (the chi-square routes: ``P(S = 0)``; Fourier: ``P(X = 0)^N``)."""
        y = np.atleast_1d(np.asarray(y, dtype=np.float64))
        out = np.empty(y.shape)
        for i, yi in enumerate(y):
            s = self.layer.variance(float(yi))
            if s == 0.0:
                out[i] = 1.0
            elif self.route == "fourier":
                out[i] = self.fourier.atom(s)
            else:
                out[i] = self.mixture.atom
        return out

    # -- application to laws ----------------------------------------------------------------
    def apply(self, law, *, tail=None):
        """Push a law of ``|x^(l-1)|^2`` through the layer: the law of ``|x^(l)|^2``.

        Parameters
        ----------
        law : SquaredNormLaw or float
            The input law, or a point ``|x^(l-1)|^2 = y`` (a float).
        tail : float, optional
            Probability that may be dropped in each tail (default ``tol * 1e-3``).
        """
        tail = self.tol * 1e-3 if tail is None else _check_tail(tail)
        if not isinstance(law, SquaredNormLaw):
            if isinstance(law, (bool, str)) or not isinstance(law, (int, float, np.integer, np.floating)):
                raise ValueError(f"law must be a SquaredNormLaw or a squared norm y >= 0, got {law!r}")
            y0 = float(law)
            if not (math.isfinite(y0) and y0 >= 0):
                raise ValueError(f"y must be a finite number >= 0, got {law!r}")
            if self.route == "fourier" and 0.0 < self.layer.variance(y0) < S_MIN:  # phi(h)^2 underflows
                raise ValueError(f"y = {y0!r} gives the {self.layer.activation.name} layer a variance "
                                 f"{self.layer.variance(y0):.3g}: it must be 0 or at least {S_MIN:g}; scale the input")
            # what the law carries besides its grid: its exact moment chain and, for the exact
            # routes, the closed-form one-step tails
            history = {"moments": MomentChain.point(y0).then(self.layer), "step": None}
            if self.mixture is not None and self.layer.variance(y0) > 0:
                log_y = np.array([math.log(y0) if y0 > 0 else -math.inf])
                history["step"] = OneStep(self.layer, self.layer.log_variance(log_y), np.ones(1), point=True)
            return self._apply_point(y0, tail, history)
        history = {"moments": MomentChain.from_input(law).then(self.layer, input_law=law), "step": None}
        if self.mixture is not None and self.layer.sigma_b2 > 0:
            log_y, w, _ = law.quadrature_nodes()
            history["step"] = OneStep(self.layer, self.layer.log_variance(log_y), w, point=False, source=law.one_step)
        if self.route == "lattice":
            return apply_lattice(self, law, tail, history)
        if self.route == "fourier":
            return self._apply_fourier(law, tail, history)
        return self._apply_log(law, tail, history)

    def _apply_fourier(self, law, tail, history):
        """The Fourier route: the kernel mixed over the input's nodes (:func:`sigdist.fourier.mixed_log_density`)."""
        layer = self.layer
        if isinstance(law, SquaredNormLaw):
            cont = law.continuous
            if cont is not None and not isinstance(cont, LogGridDensity):
                raise ValueError("a log-grid operator needs a law on a log grid (use method='lattice' throughout)")
            carried = law.grid_error
            if self.grid is not None:
                return self._apply_fixed(law, carried, history)
            if cont is not None:
                # the input's quadrature must resolve the kernel as a function of log y as well
                s_in = layer.variance(np.exp(cont.grid.points[cont.values > 0]))
                need = float(np.min(self.fourier.spacing(s_in, self.alias_budget)))
            if law._series is not None:  # (it has a continuous part) product integration against its CDF
                log_y, w, carried = law.quadrature_nodes(need)  # the law's own error and weights dropped
            else:
                if cont is not None and cont.grid.spacing > need * (1 + 1e-9):
                    law = SquaredNormLaw(law.atom, _resample(cont, need), tol=self.tol, warn=False)
                log_y, w, _ = law.quadrature_nodes()
            spacing = self._spacing()  # not the input's: mixed_log_density halves it until resolved, every layer
        else:
            carried = 0.0
            if self.grid is not None:
                q = self._fourier_columns(self.grid, np.array([math.log(law) if law > 0 else -np.inf]))[:, 0]
                return self._finish(float(self.atom_given(law)[0]), self.grid, q, 0.0, history=history)
            log_y, w, spacing = np.array([math.log(law) if law > 0 else -np.inf]), np.ones(1), self._spacing()
        grid, q, atom, error, gap, series = mixed_log_density(self.fourier, layer.log_variance(log_y), w,
                                                              self.alias_budget, tail, spacing)
        if grid is None:
            return SquaredNormLaw(min(atom, 1.0), None, tol=self.tol, **history)
        if series is None:
            return self._finish(atom, grid, q, tail, carried=carried + error + gap, history=history)
        # the series answer the CDF between the grid's nodes: the grid's resolution error is not this law's
        return self._finish(atom, grid, q, tail, carried=carried + error, history=history, series=series,
                            grid_extra=gap)

    def _apply_fixed(self, law, carried, history):
        """The Fourier route on the operator's fixed grid: its matrix and the atom's column."""
        cont = law.continuous
        if cont is not None and cont.grid != self.grid:
            raise ValueError("the input law lives on another grid than this operator's fixed grid")
        if not hasattr(self, "_fixed_matrix"):
            self._fixed_matrix = self.matrix()
        q = self._fixed_matrix @ (cont.values if cont is not None else np.zeros(self.grid.size))
        atom = law.atom * self.atom_given(0.0)[0]
        if cont is not None:
            atom += float(self.grid.spacing * (self.atom_given(self.grid.z) @ cont.values))
        if self.layer.sigma_b2 > 0 and law.atom > 0:
            q = q + law.atom * self._fourier_columns(self.grid, np.array([-np.inf]))[:, 0]
        return self._finish(atom, self.grid, q, 0.0, carried=carried, history=history)

    def _log_range(self, tail):
        cache = self.__dict__.setdefault("_range_cache", {})
        if tail not in cache:
            cache[tail] = self.mixture.log_range(tail)
        return cache[tail]

    def _spacing(self):
        if self.grid is not None:
            return self.grid.spacing
        if self.spacing is None:
            self.spacing = self.required_spacing(self.alias_budget)
        return self.spacing

    def _apply_point(self, y0, tail, history):
        layer = self.layer
        s0 = layer.sigma_w2 * y0 + layer.sigma_b2
        if self.route == "lattice":
            return apply_lattice(self, y0, tail, history)
        if s0 == 0.0:
            return SquaredNormLaw(1.0, None, tol=self.tol, **history)
        if self.route == "fourier":
            return self._apply_fourier(y0, tail, history)
        mix = self.mixture
        h = self._spacing()
        log_s0 = math.log(s0)
        if self.grid is not None:
            q = mix.log_density(self.grid.points - log_s0)
            return self._finish(mix.atom, self.grid, q, 0.0, history=history)
        x_lo, x_hi = self._log_range(tail)
        far = _FAR_TAIL if self.route == "log-dense" else None  # the next biased layer reads this right tail
        if far is not None:
            x_hi = self._log_range(far)[1]
        m = np.arange(math.floor(x_lo / h), math.ceil(x_hi / h) + 1)
        grid = LogGrid(log_s0 + m[0] * h, h, m.size)
        q = mix.log_density(m * h)
        return self._finish(mix.atom, grid, q, tail, right_tail=far, history=history)

    def _apply_log(self, law, tail, history):
        layer, mix = self.layer, self.mixture
        cont = law.continuous
        if cont is not None and not isinstance(cont, LogGridDensity):
            raise ValueError("a log-grid operator needs a law on a log grid (use method='lattice' throughout)")
        # exact atoms: any y > 0 (lost mass included) gives z = 0 with probability P(S = 0);
        # with sigma_b > 0 so does y = 0
        if self.route == "mellin":
            atom_out = law.atom + (1.0 - law.atom) * mix.atom
        else:
            atom_out = mix.atom
        if cont is None and (self.route == "mellin" or law.atom == 0.0):
            return SquaredNormLaw(atom_out, None, tol=self.tol, **history)
        h = self._spacing()
        if cont is not None and self.grid is None:
            if cont.grid.spacing > h * (1 + 1e-9):
                cont = _resample(cont, h)
            h = cont.grid.spacing  # the quadrature runs on the input's own grid
        if self.grid is not None:
            if cont is not None and cont.grid != self.grid:
                raise ValueError("the input law lives on another grid than this operator's fixed grid")
            q_in = cont.values if cont is not None else np.zeros(self.grid.size)
            if not hasattr(self, "_fixed_matrix"):  # built once per operator
                self._fixed_matrix = self.matrix()
            q = self._fixed_matrix @ q_in
            if self.route == "log-dense" and law.atom > 0:
                q = q + law.atom * mix.log_density(self.grid.points - math.log(layer.sigma_b2))
            return self._finish(atom_out, self.grid, q, 0.0, carried=law.grid_error, history=history)
        x_lo, x_hi = self._log_range(tail)
        if self.route == "log-dense":
            # direct sums of positive terms keep relative accuracy: carry the right tail down to 1e-300
            # (short in log z), so that the next layer's one-step right tail has its nodes
            x_hi = self._log_range(_FAR_TAIL)[1]
        if self.route == "mellin":
            m = np.arange(math.floor(x_lo / h), math.ceil(x_hi / h) + 1)
            kernel = h * mix.log_density(m * h)
            q = _fft.convolve(cont.values, kernel)
            grid = LogGrid(cont.grid.start + math.log(layer.sigma_w2) + m[0] * h, h, q.size)
        else:
            log_b = math.log(layer.sigma_b2)
            if cont is not None:
                g = np.logaddexp(math.log(layer.sigma_w2) + cont.grid.points, log_b)
                lo = min(g[0], log_b) if law.atom > 0 else g[0]
                hi = g[-1]
            else:
                g, lo, hi = None, log_b, log_b
            n_out = int(math.ceil((hi + x_hi - (lo + x_lo)) / h)) + 1
            grid = LogGrid(lo + x_lo, h, n_out)
            w = grid.points
            q = np.zeros(n_out)
            if cont is not None and mix.scaled:  # leaky relu: a scale per term
                q = mix.dense_apply(grid.start, h, n_out, g, h * cont.values, x_lo, x_hi)
            elif cont is not None:
                q = _dense_apply(grid.start, h, n_out, g, h * cont.values, mix._log_coef, mix.k.astype(np.float64),
                                 x_lo, x_hi)
            if law.atom > 0:
                q += law.atom * mix.log_density(w - log_b)
        return self._finish(atom_out, grid, q, tail, carried=law.grid_error,
                            right_tail=_FAR_TAIL if self.route == "log-dense" else None, history=history)

    def _finish(self, atom, grid, q, tail, carried=0.0, right_tail=None, history=None, series=None,
                grid_extra=0.0):
        if tail > 0 and self.grid is None:  # a fixed grid is kept whole
            grid, q = _trim(grid, q, tail, tail if right_tail is None else right_tail)
        cont = LogGridDensity(grid, q)
        # trapezoid (aliasing) error: the kernel's spectrum at the sampling frequency 2 pi / h
        # is far below its value (the layer's share of tol * 1e-3) at the Nyquist frequency
        alias = self.alias_budget
        if series is None:
            return SquaredNormLaw(atom, cont, discretisation_error=carried + alias + cont.resolution_error,
                                  tol=self.tol, warn=False, **(history or {}))
        grid_error = carried + alias + cont.resolution_error + grid_extra
        return SquaredNormLaw(atom, cont, discretisation_error=carried + alias, tol=self.tol, warn=False,
                              series=series, grid_error=grid_error, **(history or {}))


_LOG2 = math.log(2.0)


class ComposedOperator:
    """Composition ``T_L ... T_1`` of transition operators (applied first to last)."""

    def __init__(self, operators):
        ops = []
        for op in operators:
            ops.extend(op.operators if isinstance(op, ComposedOperator) else [op])
        self.operators = ops

    def __matmul__(self, other):
        return ComposedOperator([other, self])

    def apply(self, law, **kwargs):
        for op in self.operators:
            law = op.apply(law, **kwargs)
        return law

    def matrix(self, grid=None):
        """Product of the layer matrices on one fixed log grid."""
        out = None
        for op in self.operators:
            m = op.matrix(grid)
            out = m if out is None else m @ out
        return out


# -- helpers -------------------------------------------------------------------------------------

def _check_tail(tail):
    try:
        t = float(tail)
    except (TypeError, ValueError):
        raise ValueError(f"tail must be a probability in (0, 0.01], got {tail!r}") from None
    if not (0 < t <= 0.01):
        raise ValueError(f"tail must be a probability in (0, 0.01], got {tail!r}")
    return t


# the right tail a biased layer keeps on its grid (its direct sums hold it with relative accuracy)
_FAR_TAIL = 1e-300


def _trim(grid: LogGrid, q, tail, right_tail=None):
    """Drop grid points in each tail below ``tail``.

    The left tail is judged by its mass; the right tail by the largest of its
    shares of the mass, of ``E[z]`` and of ``E[z^2]``, so that trimming costs the
    first two moments no more relative accuracy than it costs the CDF.
    """
    h = grid.spacing
    cum = np.cumsum(q) * h
    lo = int(np.searchsorted(cum, tail, side="right"))
    u = grid.points - grid.points[np.argmax(q)]  # centred, so that e^{2u} stays finite
    with np.errstate(over="ignore"):
        shares = [q, q * np.exp(u), q * np.exp(2.0 * u)]
    right = np.zeros(q.size)
    for w in shares:
        total = w.sum()
        if np.isfinite(total) and total > 0:
            right = np.maximum(right, np.cumsum(w[::-1])[::-1] / total)
    right_tail = tail if right_tail is None else right_tail
    hi = int(np.nonzero(right > right_tail)[0][-1]) + 1 if np.any(right > right_tail) else q.size
    lo = max(lo - 2, 0)
    hi = min(hi + 3, q.size)
    if hi - lo < 8:
        return grid, q
    return LogGrid(grid.start + lo * h, h, hi - lo), q[lo:hi]


def _resample(cont: LogGridDensity, h):
    """The same density on a finer grid of spacing ``h`` (trigonometric interpolation)."""
    g = cont.grid
    n = int(math.ceil((g.end - g.start) / h)) + 1
    grid = LogGrid(g.start, h, n)
    return LogGridDensity(grid, cont.density_u(grid.points))


@njit
def _toeplitz_fill(column, out):
    # column[k] holds the kernel at offset (k - (n - 1)) h; M[j, i] = column[j - i + n - 1].
    # Reversed, each row is a contiguous forward slice: a streaming copy at memory bandwidth.
    n = out.shape[0]
    rev = column[::-1].copy()
    for j in range(n):
        start = n - 1 - j
        row = out[j]
        for i in range(n):
            row[i] = rev[start + i]
    return out


@njit
def _dense_apply(w0, h, n_out, g, hq, log_coef, k, x_lo, x_hi):
    # out_j = sum_i hq_i p_{log S}(w0 + j h - g_i) over the band x_lo <= w_j - g_i <= x_hi where the
    # kernel carries mass. p_{log S}(x) = exp(-e^x / 2) sum_t exp(log_coef_t + k_t x / 2) with k_t
    # consecutive integers: the terms are log-concave in t, so the sum starts at the largest (whose
    # index only grows with x) and walks outwards until the terms are below 1e-18 of it.
    nk = k.shape[0]
    ratio = np.exp(log_coef[1:] - log_coef[:-1])
    out = np.zeros(n_out)
    for i in range(g.shape[0]):
        if hq[i] == 0.0:
            continue
        j0 = max(0, int(math.ceil((g[i] + x_lo - w0) / h)))
        j1 = min(n_out - 1, int(math.floor((g[i] + x_hi - w0) / h)))
        best = 0
        for j in range(j0, j1 + 1):
            x = w0 + j * h - g[i]
            if x >= 709.0:
                break
            e = 0.5 * math.exp(x)
            while best + 1 < nk and log_coef[best + 1] + 0.5 * k[best + 1] * x >= log_coef[best] + 0.5 * k[best] * x:
                best += 1
            m = log_coef[best] + 0.5 * k[best] * x
            # for wide layers both m and e^x / 2 are large (~N / 2): only their difference can underflow
            if m - e < -745.0:
                continue
            out[j] += hq[i] * math.exp(m - e) * walk_from_largest(ratio, math.exp(0.5 * x), best)
    return out
