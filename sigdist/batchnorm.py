r"""Batch normalisation as a Markov chain on hidden representations (Daneshmand et al. 2020).

The linear BN network with residual strength :math:`\gamma` (eq. 1, 2 with
:math:`\alpha = 0`, :math:`\beta = 1`) is

.. math:: H_{\ell+1} = \mathrm{BN}(\hat W_\ell H_\ell), \quad \hat W_\ell = I + \gamma W_\ell, \quad
          \mathrm{BN}(H) = \mathrm{diag}(M(H))^{-1/2} H, \quad M(H) = H H^\top / N,

with ``gamma = inf`` meaning :math:`\hat W = W` (no skip connection; BN removes the scale).
Every rank measure of :mod:`sigdist.rank` depends on ``H`` only through ``M``, and
:math:`M_{\ell+1} = D \hat W M_\ell \hat W^\top D`, :math:`D = \mathrm{diag}(\hat W M_\ell \hat W^\top)^{-1/2}`:
the chain lives on ``d x d`` correlation matrices whatever the batch ``N``. sigdist runs it on a
factor :math:`M = L L^\top`, ``L`` of shape ``d x min(d, N)``:
:math:`L_{\ell+1} = D \hat W L_\ell` with ``D`` the inverse row norms of :math:`\hat W L_\ell`
(one ``gemm`` per step, :math:`2 d^2 \min(d, N)` flops, plus :math:`d \min(d,N)^2` for ``r(H)``).

Mean-centring (``center=True``) multiplies ``H`` from the right by the projection
:math:`P = I - \mathbf{1}\mathbf{1}^\top/N`; since :math:`\hat W H P = (\hat W H) P` and BN rescales
rows, a centred ``H`` stays centred, so in the linear chain centring acts only on :math:`H_0`.

Also here: the Lyapunov spectrum of products of random matrices (rank collapse without BN,
Lemma 3), rank profiles of real networks against depth (Fig. 2) and rank-increasing pre-training (§4).
"""

from __future__ import annotations

import json
import math
import numbers
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy.special import digamma

from ._numba import njit
from ._warnings import SigdistWarning
from ._checks import check_bool, check_integer, check_output_path, check_seed
from .rank import (_check_matrix, _check_tau, _check_tolerances, numerical_rank, rank_bound, soft_rank,
                   soft_rank_from_gram)

__all__ = ["RankChain", "RankChainResult", "LyapunovResult", "RankProfile", "WEIGHT_LAWS", "batch_norm",
           "bn_step", "gaussian_lyapunov_exponents", "gram_step", "hidden_rank_profile", "lyapunov_spectrum"]

#: Built-in zero-mean, unit-variance, symmetric weight laws (Definition 1).
WEIGHT_LAWS = ("gaussian", "uniform")
_SQRT3 = math.sqrt(3.0)
_TRACE_POINTS = 4000  # the thinned trace of r(H) kept for plots holds between 2000 and 4000 points


# ----------------------------------------------------------------------------------------------- checks

def _check_gamma(gamma):
    if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or math.isnan(gamma) or gamma <= 0:
        raise ValueError(f"gamma must be a number > 0 (math.inf for no skip connection), got {gamma!r}")
    return float(gamma)


def _check_weight_law(law):
    if law not in WEIGHT_LAWS:
        raise ValueError(f"weight_law must be one of {WEIGHT_LAWS}, got {law!r}")
    return law


def _check_rows(H, name="H"):
    """BN divides each row by its root mean square: refuse zero rows, naming the first."""
    norms = np.einsum("...ij,...ij->...i", H, H)
    zero = np.argwhere(norms == 0)
    if zero.size:
        where = tuple(int(i) for i in zero[0])
        raise ValueError(f"{name} has an all-zero row at index {where}: batch norm divides by the row norm")


# ----------------------------------------------------------------------------------------------- single steps

def _residual_apply(W, X, gamma):
    r""":math:`\hat W X = X + \gamma W X` (``gamma = inf``: :math:`W X`), numpy or torch."""
    return W @ X if math.isinf(gamma) else X + gamma * (W @ X)


def _draw_weights(rng, law, shape):
    """i.i.d. zero-mean, unit-variance weights from a numpy Generator (Definition 1)."""
    return rng.standard_normal(shape) if law == "gaussian" else rng.uniform(-_SQRT3, _SQRT3, shape)


def batch_norm(H, center=False):
    r"""``BN(H) = diag(M(H))^{-1/2} H`` (eq. 2, :math:`\alpha = 0`, :math:`\beta = 1`), optionally mean-centred.

    Parameters
    ----------
    H : array_like, shape (d, N) or (..., d, N)
    center : bool
        Subtract each row's mean over the batch first (standard BN; the paper omits it).

    Returns
    -------
    ndarray, same shape: every row has mean square 1 (and mean 0 if ``center``).
    """
    H = _check_matrix(H)
    if check_bool(center, "center"):
        H = H - H.mean(axis=-1, keepdims=True)
    _check_rows(H)
    return H / np.sqrt(np.mean(H * H, axis=-1, keepdims=True))


def bn_step(H, W, gamma, center=False):
    r"""One layer of eq. 1: :math:`\mathrm{BN}(H + \gamma W H)` (``gamma = inf``: :math:`\mathrm{BN}(W H)`)."""
    H = _check_matrix(H)
    W = _check_matrix(W, "W")
    gamma = _check_gamma(gamma)
    return batch_norm(_residual_apply(W, H, gamma), center=center)


def gram_step(M, W, gamma):
    r"""The chain on Gram matrices: :math:`D \hat W M \hat W^\top D`,
    :math:`D = \mathrm{diag}(\hat W M \hat W^\top)^{-1/2}`.

    Equals ``M(bn_step(H, W, gamma))`` for ``M = M(H)`` (without centring), at :math:`O(d^3)` cost
    independent of the batch.
    """
    M = _check_matrix(M, "M")
    W = _check_matrix(W, "W")
    gamma = _check_gamma(gamma)
    What = W if math.isinf(gamma) else np.eye(W.shape[-1]) + gamma * W
    G = What @ M @ np.swapaxes(What, -1, -2)
    diag = np.diagonal(G, axis1=-2, axis2=-1)
    if np.any(diag <= 0):
        raise ValueError("W M W^T has a zero diagonal entry: batch norm divides by it")
    s = 1.0 / np.sqrt(diag)
    return G * s[..., :, None] * s[..., None, :]


# ----------------------------------------------------------------------------------------------- random numbers

@njit(nogil=True)
def _fill_gaussian(rng, out):
    # numba's Generator runs numpy's own ziggurat on the same bit generator: the numbers equal
    # rng.standard_normal(out.size), three times faster than numpy's per-call fill loop
    for i in range(out.size):
        out[i] = rng.standard_normal()


@njit(nogil=True)
def _fill_uniform(rng, out):
    for i in range(out.size):
        out[i] = _SQRT3 * (2.0 * rng.random() - 1.0)  # U[-sqrt 3, sqrt 3]: variance 1


_FILLERS = {"gaussian": _fill_gaussian, "uniform": _fill_uniform}


def _chain_generators(seed, n_chains):
    """One independent numpy Generator per chain: chain ``k`` depends only on ``(seed, k)``."""
    seed = check_seed(seed)
    if isinstance(seed, np.random.Generator):
        seq = np.random.SeedSequence(int(seed.integers(2**63)))
    elif seed is None or isinstance(seed, np.random.SeedSequence):
        seq = seed if seed is not None else np.random.SeedSequence()
    elif isinstance(seed, np.random.BitGenerator):
        seq = np.random.SeedSequence(int(np.random.Generator(seed).integers(2**63)))
    else:
        seq = np.random.SeedSequence(seed)
    return [np.random.Generator(np.random.PCG64(s)) for s in seq.spawn(n_chains)]


# ----------------------------------------------------------------------------------------------- statistics

class _BatchMeans:
    """Streaming batch means for ``n_chains`` parallel series (memory O(n_chains * max_blocks)).

    Blocks of ``block_len`` consecutive recorded values per chain; when ``2 * n_blocks`` blocks are
    complete, neighbours merge and ``block_len`` doubles, so the number of blocks stays in
    ``[n_blocks, 2 n_blocks)`` however long the run.
    """

    def __init__(self, n_chains, n_blocks=32):
        self.n_blocks = n_blocks
        self.block_len = 1
        self.blocks = np.zeros((n_chains, 0))  # complete block sums
        self.partial = np.zeros(n_chains)
        self.partial_count = 0
        self.count = 0
        self.total = np.zeros(n_chains)
        self.total_sq = np.zeros(n_chains)

    def add(self, values):
        """``values``: shape (n_steps, n_chains).

        Sums run row by row in step order, so the result does not depend on how a run was cut into
        blocks, continued or resumed (bitwise).
        """
        values = np.asarray(values, dtype=np.float64)
        for row in values:
            self.count += 1
            self.total += row
            self.total_sq += row * row
            self.partial += row
            self.partial_count += 1
            if self.partial_count == self.block_len:
                self.blocks = np.concatenate([self.blocks, self.partial[:, None]], axis=1)
                self.partial = np.zeros_like(self.partial)
                self.partial_count = 0
                if self.blocks.shape[1] == 2 * self.n_blocks:
                    self.blocks = self.blocks[:, 0::2] + self.blocks[:, 1::2]
                    self.block_len *= 2

    def summary(self):
        """``(mean, se, chain_means, tau_int)``; ``se`` and ``tau_int`` are nan with fewer than 2 blocks."""
        if self.count == 0:
            nan = float("nan")
            return nan, nan, np.full(self.total.shape, nan), nan
        chain_means = self.total / self.count
        mean = float(chain_means.mean())
        block_means = (self.blocks / self.block_len).ravel()
        if block_means.size < 2:
            return mean, float("nan"), chain_means, float("nan")
        var_block = float(np.var(block_means, ddof=1))
        se = math.sqrt(var_block / block_means.size)
        var_one = float((self.total_sq.sum() / (self.count * self.total.size)) - mean * mean)
        # batch means: Var(block mean) ~ 2 tau_int var / block_len for block_len >> tau_int
        tau_int = 0.5 * self.block_len * var_block / var_one if var_one > 0 else float("nan")
        return mean, se, chain_means, tau_int

    def state(self, prefix):
        return {f"{prefix}_blocks": self.blocks, f"{prefix}_partial": self.partial,
                f"{prefix}_total": self.total, f"{prefix}_total_sq": self.total_sq,
                f"{prefix}_ints": np.array([self.n_blocks, self.block_len, self.partial_count, self.count])}

    @classmethod
    def from_state(cls, data, prefix):
        n_blocks, block_len, partial_count, count = (int(v) for v in data[f"{prefix}_ints"])
        self = cls(data[f"{prefix}_total"].shape[0], n_blocks)
        self.block_len, self.partial_count, self.count = block_len, partial_count, count
        self.blocks = np.array(data[f"{prefix}_blocks"])
        self.partial = np.array(data[f"{prefix}_partial"])
        self.total = np.array(data[f"{prefix}_total"])
        self.total_sq = np.array(data[f"{prefix}_total_sq"])
        return self


@dataclass(frozen=True)
class RankChainResult:
    r"""Long-run averages of the BN rank chain, with standard errors by batch means.

    Attributes
    ----------
    r_mean, r_se : float
        :math:`\frac1L\sum_\ell r(H_\ell)` over recorded steps and chains, and its standard error
        (batch means pooled over chains: autocorrelation within a block is accounted for).
    soft_rank_mean, soft_rank_se : float
        The same for :math:`\mathrm{rank}_\tau(H_\ell)`.
    r_chain_means, soft_rank_chain_means : ndarray, shape (n_chains,)
    tau_int_r, tau_int_soft_rank : float
        Integrated autocorrelation times (in recorded samples) from the batch means.
    lemma1_violations : int
        Recorded steps with :math:`\mathrm{rank}_\tau(H) < (1-\tau)^2 r(H)` (Lemma 1 says 0).
    n_recorded, n_blocks, block_len : int
        Recorded samples of ``r`` per chain; complete blocks per chain and their length.
    trace_steps, trace_r : ndarray
        A thinned trace of ``r(H_\ell)`` (steps, and values of shape (len(steps), n_chains)).
    """

    d: int
    gamma: float
    batch: int
    n_chains: int
    steps: int
    burn_in: int
    tau: float
    r_mean: float
    r_se: float
    soft_rank_mean: float
    soft_rank_se: float
    r_chain_means: np.ndarray
    soft_rank_chain_means: np.ndarray
    tau_int_r: float
    tau_int_soft_rank: float
    lemma1_violations: int
    n_recorded: int
    n_blocks: int
    block_len: int
    trace_steps: np.ndarray
    trace_r: np.ndarray


# ----------------------------------------------------------------------------------------------- the chain

class RankChain:
    r"""Many independent BN rank chains (eq. 1) run in parallel, seeded, with checkpoints.

    Parameters
    ----------
    d : int >= 2
        Width.
    gamma : float > 0 or math.inf
        Residual strength (:math:`\hat W = I + \gamma W`); ``math.inf``: no skip connection.
    n_chains : int >= 1
    batch : int >= 1, optional
        Batch size ``N`` (default ``d``); ``N < d`` is the regime the paper leaves open.
    seed : int, numpy.random.Generator, SeedSequence or None
        Numpy backend: chain ``k`` draws from its own stream ``SeedSequence(seed).spawn(n_chains)[k]``
        (``H_0`` first, then ``W_1, W_2, ...`` row-major), so a chain's path does not depend on how
        many chains run beside it or on threads. Torch backend: one ``torch.Generator`` seeded with
        ``seed``; the same seed gives the same numbers on the same device.
    device : {"auto", "cpu", "cuda", "cuda:k"}
        ``"auto"``: CUDA when torch sees one, else the CPU.
    dtype : numpy or torch float dtype
        float64 (default) or float32.
    weight_law : {"gaussian", "uniform"}
        Zero-mean, unit-variance, symmetric (Definition 1).
    center : bool
        Mean-centring in BN (acts on :math:`H_0` only in the linear chain, see the module notes).
    inputs : array_like, shape (d, N) or (n_chains, d, N), optional
        :math:`H_0 = X`; default i.i.d. N(0, 1) entries.
    backend : {"numpy", "torch"}, optional
        Default: numpy (BLAS, numba random numbers, threads) on the CPU, torch on CUDA.

    Notes
    -----
    The state is the factor ``L`` of :math:`M(H_\ell) = L L^\top`, shape ``(n_chains, d, min(d, N))``.
    :math:`r(H) = d^2 / \|M\|_F^2` after the first step (BN makes :math:`\mathrm{diag}\, M = 1`); the soft
    rank counts the eigenvalues of ``M`` at least ``tau`` by inertia (:func:`sigdist.rank.soft_rank_from_gram`)
    on the CPU and by ``eigvalsh`` on CUDA.

    References
    ----------
    Daneshmand et al. (2020), eq. 1-4, Lemma 1, Theorem 2.

    Examples
    --------
    >>> from sigdist.batchnorm import RankChain
    >>> res = RankChain(16, 0.5, n_chains=2, seed=0).run(1000, burn_in=100, tau=0.5)
    >>> bool(2.5 < res.r_mean < 4.5), res.lemma1_violations
    (True, 0)
    """

    def __init__(self, d, gamma, *, n_chains=1, batch=None, seed=None, device="auto", dtype=np.float64,
                 weight_law="gaussian", center=False, inputs=None, backend=None):
        self.d = check_integer(d, "d", 2)
        self.gamma = _check_gamma(gamma)
        self.n_chains = check_integer(n_chains, "n_chains", 1)
        self.batch = self.d if batch is None else check_integer(batch, "batch", 1)
        self.weight_law = _check_weight_law(weight_law)
        self.center = check_bool(center, "center")
        if self.center and self.batch < 2:
            raise ValueError("batch must be >= 2 with center=True (a centred batch of one is zero)")
        self.rank_dim = min(self.d, self.batch)
        self.dtype_name = _dtype_name(dtype)
        self.backend, self.device = _resolve_backend(backend, device)
        self.steps = 0
        self.burn_in = None
        self.tau = None
        self.thin = None
        self.soft_rank_thin = None
        self._r_stats = _BatchMeans(self.n_chains)
        self._s_stats = _BatchMeans(self.n_chains)
        self.lemma1_violations = 0
        self._trace_steps, self._trace_r = [], []
        self._trace_every = None
        X = self._inputs(inputs)
        if self.backend == "numpy":
            self._gens = _chain_generators(seed, self.n_chains)
            if X is None:
                X = np.empty((self.n_chains, self.d, self.batch))
                for k, g in enumerate(self._gens):
                    _FILLERS["gaussian"](g, X[k].reshape(-1))
            self._L = _initial_factor(X, self.center).astype(self.dtype_name)
        else:
            import torch

            from .montecarlo._torch import make_generator

            if isinstance(seed, np.random.Generator):
                seed = int(seed.integers(2**63))
            elif isinstance(seed, np.random.SeedSequence):
                seed = int(seed.generate_state(1, np.uint64)[0] >> np.uint64(1))
            self._gen = make_generator(seed, self.device)
            self._tdtype = getattr(torch, self.dtype_name)
            if X is None:
                X = torch.randn((self.n_chains, self.d, self.batch), generator=self._gen, device=self.device,
                                dtype=torch.float64).cpu().numpy()
            self._L = torch.as_tensor(_initial_factor(X, self.center), device=self.device).to(self._tdtype)

    # -- construction helpers
    def _inputs(self, inputs):
        if inputs is None:
            return None
        if type(inputs).__module__.startswith("torch"):
            inputs = inputs.detach().cpu().numpy()
        X = _check_matrix(inputs, "inputs")
        if X.ndim == 2:
            X = np.broadcast_to(X, (self.n_chains, *X.shape)).copy()
        if X.shape != (self.n_chains, self.d, self.batch):
            raise ValueError(f"inputs must have shape (d, N) = ({self.d}, {self.batch}) or "
                             f"(n_chains, d, N) = ({self.n_chains}, {self.d}, {self.batch}), got {X.shape}")
        Xc = X - X.mean(axis=-1, keepdims=True) if self.center else X
        _check_rows(Xc, "inputs" + (" (centred)" if self.center else ""))
        return X

    # -- public
    @property
    def factor(self):
        """The current factor ``L`` (numpy, shape (n_chains, d, min(d, N))) with ``M(H) = L L^T``."""
        return self._L if self.backend == "numpy" else self._L.cpu().numpy()

    def gram(self):
        """The current ``M(H_l)``, shape (n_chains, d, d)."""
        L = np.asarray(self.factor, dtype=np.float64)
        return L @ np.swapaxes(L, -1, -2)

    def run(self, n_steps, burn_in=0, tau=0.5, *, thin=1, soft_rank_thin=1, checkpoint=None,
            checkpoint_every=60.0, progress=None):
        r"""Run every chain until it has taken ``n_steps`` steps in total; return the running averages.

        Statistics are recorded at steps :math:`\ell > \mathrm{burn\_in}` with ``ell % thin == 0`` (``r``)
        and ``ell % soft_rank_thin == 0`` (soft rank). Calling ``run`` again with a larger ``n_steps``
        continues the same chains and statistics (``burn_in``, ``tau`` and the thinning must not change).

        Parameters
        ----------
        n_steps : int
            Total chain length (layers), ``> burn_in``.
        burn_in : int >= 0
        tau : float in [0, 1]
            Soft-rank threshold (eq. 3).
        thin, soft_rank_thin : int >= 1
        checkpoint : str or path, optional
            File (``.npz``) the whole state is written to every ``checkpoint_every`` seconds, at the end,
            and on ``KeyboardInterrupt``; continue with :meth:`load`.
        checkpoint_every : float > 0
            Seconds between checkpoints.
        progress : bool, optional
            tqdm bar on stderr; default: on for runs of at least 10^5 remaining steps.

        Returns
        -------
        RankChainResult
        """
        n_steps = check_integer(n_steps, "n_steps", 1)
        burn_in = check_integer(burn_in, "burn_in", 0)
        if n_steps <= burn_in:
            raise ValueError(f"n_steps must be > burn_in (nothing would be recorded), got n_steps={n_steps}, "
                             f"burn_in={burn_in}")
        tau = _check_tau(tau)
        thin = check_integer(thin, "thin", 1)
        soft_rank_thin = check_integer(soft_rank_thin, "soft_rank_thin", 1)
        for value, name in ((thin, "thin"), (soft_rank_thin, "soft_rank_thin")):
            if n_steps // value <= burn_in // value:  # no multiple of it in (burn_in, n_steps]
                raise ValueError(f"{name} must leave a recorded step in (burn_in, n_steps] = ({burn_in}, {n_steps}] "
                                 f"(nothing would be recorded), got {name}={value}")
        if checkpoint is not None:
            checkpoint = check_output_path(checkpoint, "checkpoint")  # now, not after the run
        if not (isinstance(checkpoint_every, numbers.Real) and checkpoint_every > 0):
            raise ValueError(f"checkpoint_every must be a number of seconds > 0, got {checkpoint_every!r}")
        settings = (burn_in, tau, thin, soft_rank_thin)
        if self.burn_in is not None and settings != (self.burn_in, self.tau, self.thin, self.soft_rank_thin):
            raise ValueError("a continued run must keep burn_in, tau, thin and soft_rank_thin: the chain has "
                             f"{(self.burn_in, self.tau, self.thin, self.soft_rank_thin)}, got {settings}")
        self.burn_in, self.tau, self.thin, self.soft_rank_thin = settings
        if self._trace_every is None:
            self._trace_every = thin
        remaining = n_steps - self.steps
        if progress is None:
            progress = remaining >= 100_000
        bar = None
        if progress and remaining > 0:
            from tqdm.auto import tqdm

            bar = tqdm(total=n_steps, initial=self.steps, unit="step", desc=f"rank chain d={self.d}")
        last_save = time.monotonic()
        block = self._block_len()
        committed = self._snapshot()
        try:
            while self.steps < n_steps:
                size = min(block, n_steps - self.steps)
                self._advance(size)
                committed = self._snapshot()
                if bar is not None:
                    bar.update(size)
                if checkpoint is not None and time.monotonic() - last_save >= checkpoint_every:
                    self._save(checkpoint, committed)
                    last_save = time.monotonic()
        except BaseException:
            # an interrupt or a numerical failure mid-block: back to the last committed block (state, streams
            # and statistics together), saved, so a rerun or a resume continues exactly
            self._restore(committed)
            if checkpoint is not None:
                self._save(checkpoint, committed)
            raise
        finally:
            if bar is not None:
                bar.close()
        if checkpoint is not None:
            self._save(checkpoint, committed)
        return self.result()

    def result(self):
        """The statistics accumulated so far (see :class:`RankChainResult`)."""
        r_mean, r_se, r_chain, r_tau = self._r_stats.summary()
        s_mean, s_se, s_chain, s_tau = self._s_stats.summary()
        if self._r_stats.count and self._r_stats.blocks.shape[1] < 8:
            warnings.warn(f"only {self._r_stats.blocks.shape[1]} complete batch-means blocks per chain: r_se is "
                          "unreliable; run more steps", SigdistWarning, stacklevel=2)
        trace_r = np.array(self._trace_r).reshape(-1, self.n_chains)
        return RankChainResult(
            d=self.d, gamma=self.gamma, batch=self.batch, n_chains=self.n_chains, steps=self.steps,
            burn_in=self.burn_in or 0, tau=self.tau if self.tau is not None else float("nan"),
            r_mean=r_mean, r_se=r_se, soft_rank_mean=s_mean, soft_rank_se=s_se, r_chain_means=r_chain,
            soft_rank_chain_means=s_chain, tau_int_r=r_tau, tau_int_soft_rank=s_tau,
            lemma1_violations=self.lemma1_violations, n_recorded=self._r_stats.count,
            n_blocks=self._r_stats.blocks.shape[1], block_len=self._r_stats.block_len,
            trace_steps=np.array(self._trace_steps, dtype=np.int64), trace_r=trace_r)

    # -- stepping
    def _block_len(self):
        per_step = self.n_chains * self.d * self.d * 8
        return int(max(1, min(256, (32 << 20) // per_step)))

    def _advance(self, size):
        """Take ``size`` steps of every chain and record their statistics."""
        first = self.steps + 1
        idx = np.arange(first, first + size)
        rec_r = (idx > self.burn_in) & (idx % self.thin == 0)
        rec_s = (idx > self.burn_in) & (idx % self.soft_rank_thin == 0)
        if self.backend == "numpy":
            r_vals, s_vals = self._advance_numpy(size, rec_r, rec_s)
        else:
            r_vals, s_vals = self._advance_torch(size, rec_r, rec_s)
        self.steps += size
        if rec_r.any():
            self._r_stats.add(r_vals[rec_r])
            for i in np.flatnonzero(rec_r):
                if idx[i] % self._trace_every == 0:
                    self._trace_steps.append(int(idx[i]))
                    self._trace_r.append(r_vals[i].copy())
                    if len(self._trace_steps) > _TRACE_POINTS:
                        # keep every other point and double the spacing: bounded memory, and the trace depends
                        # only on the absolute steps, not on how the run was split or resumed
                        self._trace_every *= 2
                        keep = [j for j, step in enumerate(self._trace_steps) if step % self._trace_every == 0]
                        self._trace_steps = [self._trace_steps[j] for j in keep]
                        self._trace_r = [self._trace_r[j] for j in keep]
        if rec_s.any():
            self._s_stats.add(s_vals[rec_s])
            both = rec_r & rec_s
            if both.any():
                bound = (1.0 - self.tau) ** 2 * r_vals[both]
                self.lemma1_violations += int(np.count_nonzero(s_vals[both] < bound * (1 - 1e-12)))

    def _advance_numpy(self, size, rec_r, rec_s):
        K, d, r = self.n_chains, self.d, self.rank_dim
        W = np.empty((K, size, d, d), dtype=self.dtype_name)
        fill = _FILLERS[self.weight_law]
        workers = min(K, os.cpu_count() or 1)
        if workers > 1:
            with ThreadPoolExecutor(workers) as pool:  # numba releases the GIL: streams fill in parallel
                list(pool.map(lambda k: fill(self._gens[k], W[k].reshape(-1)), range(K)))
        else:
            for k in range(K):
                fill(self._gens[k], W[k].reshape(-1))
        r_vals = np.full((size, K), np.nan)
        s_vals = np.full((size, K), np.nan)
        L = self._L
        finite_gamma = not math.isinf(self.gamma)  # _residual_apply in place: no temporaries in the hot loop
        for i in range(size):
            A = np.matmul(W[:, i], L)
            if finite_gamma:
                A *= self.gamma
                A += L
            norms = np.sqrt(np.einsum("kij,kij->ki", A, A))
            if not np.all(np.isfinite(norms) & (norms > 0)):
                raise FloatingPointError(f"a row of W_hat H became zero or non-finite at step {self.steps + i + 1}")
            L = A / norms[:, :, None]
            if rec_r[i] or rec_s[i]:
                G = np.matmul(np.swapaxes(L, 1, 2), L) if r < d else np.matmul(L, np.swapaxes(L, 1, 2))
                if rec_r[i]:
                    r_vals[i] = d * d / np.einsum("kij,kij->k", G, G)
                if rec_s[i]:
                    s_vals[i] = soft_rank_from_gram(G, self.tau) if self.tau > 0 else d
        self._L = L
        return r_vals, s_vals

    def _advance_torch(self, size, rec_r, rec_s):
        import torch

        K, d, r = self.n_chains, self.d, self.rank_dim
        L = self._L
        r_out = torch.full((size, K), float("nan"), dtype=torch.float64, device=self.device)
        s_out = torch.full((size, K), float("nan"), dtype=torch.float64, device=self.device)
        for i in range(size):
            if self.weight_law == "gaussian":
                W = torch.randn((K, d, d), generator=self._gen, device=self.device, dtype=self._tdtype)
            else:
                W = torch.rand((K, d, d), generator=self._gen, device=self.device, dtype=self._tdtype)
                W = _SQRT3 * (2.0 * W - 1.0)
            A = _residual_apply(W, L, self.gamma)
            norms = torch.linalg.vector_norm(A, dim=2, keepdim=True)
            L = A / norms
            if rec_r[i] or rec_s[i]:
                Lt = L.transpose(1, 2)
                G = torch.bmm(Lt, L) if r < d else torch.bmm(L, Lt)
                if rec_r[i]:
                    r_out[i] = (d * d / (G * G).sum((1, 2))).double()
                if rec_s[i]:
                    s_out[i] = (torch.linalg.eigvalsh(G) >= self.tau).sum(1).double() if self.tau > 0 else d
        if not bool(torch.isfinite(L).all()):
            raise FloatingPointError(f"the chain state became non-finite before step {self.steps + size}")
        self._L = L
        return r_out.cpu().numpy(), s_out.cpu().numpy()

    # -- checkpoints
    def _snapshot(self):
        if self.backend == "numpy":
            rng = json.dumps([g.bit_generator.state for g in self._gens])
            L = self._L.copy()
        else:
            rng = self._gen.get_state().numpy().copy()
            L = self._L.clone()
        return {"steps": self.steps, "L": L, "rng": rng,
                "r": _BatchMeans.from_state(self._r_stats.state("x"), "x"),
                "s": _BatchMeans.from_state(self._s_stats.state("x"), "x"),
                "viol": self.lemma1_violations, "trace": (list(self._trace_steps), list(self._trace_r)),
                "trace_every": self._trace_every}

    def _restore(self, snap):
        self.steps, self._L = snap["steps"], snap["L"]
        self._r_stats, self._s_stats, self.lemma1_violations = snap["r"], snap["s"], snap["viol"]
        self._trace_steps, self._trace_r = list(snap["trace"][0]), list(snap["trace"][1])
        self._trace_every = snap["trace_every"]
        if self.backend == "numpy":
            for g, state in zip(self._gens, json.loads(snap["rng"])):
                g.bit_generator.state = state
        else:
            import torch

            self._gen.set_state(torch.from_numpy(snap["rng"]))

    def _save(self, path, snap):
        meta = {"d": self.d, "gamma": self.gamma, "n_chains": self.n_chains, "batch": self.batch,
                "weight_law": self.weight_law, "center": self.center, "dtype": self.dtype_name,
                "backend": self.backend, "device": str(self.device), "steps": snap["steps"],
                "burn_in": self.burn_in, "tau": self.tau, "thin": self.thin, "soft_rank_thin": self.soft_rank_thin,
                "violations": snap["viol"], "trace_every": snap["trace_every"], "version": 1}
        L = snap["L"] if self.backend == "numpy" else snap["L"].cpu().numpy()
        arrays = {"meta": np.array(json.dumps(meta)), "L": L, "trace_steps": np.array(snap["trace"][0], np.int64),
                  "trace_r": np.array(snap["trace"][1]).reshape(-1, self.n_chains),
                  **snap["r"].state("r"), **snap["s"].state("s")}
        arrays["rng"] = np.array(snap["rng"]) if self.backend == "numpy" else snap["rng"]
        path = os.fspath(path)
        tmp = path + ".tmp.npz"
        np.savez(tmp, **arrays)
        os.replace(tmp, path)  # atomic: an interrupt never leaves a half-written checkpoint

    @classmethod
    def load(cls, path, *, device=None):
        """A chain restored from a checkpoint written by :meth:`run`; ``run`` continues it exactly.

        The checkpoint is checked for consistency first (ranges of its settings, the recorded counts against
        ``steps``, burn-in and thinning, the factor's shape, finiteness and rows): a damaged or edited file
        raises ``ValueError`` naming the field instead of reporting garbage.
        """
        path = os.fspath(path)
        with np.load(path, allow_pickle=False) as data:
            try:
                meta = json.loads(str(data["meta"]))
                arrays = {key: np.array(data[key]) for key in data.files if key != "meta"}
            except (KeyError, ValueError) as err:
                raise ValueError(f"checkpoint {path!r} is not a RankChain checkpoint ({err})") from None
        try:
            meta = _check_checkpoint(meta, arrays)
        except ValueError as err:
            raise ValueError(f"checkpoint {path!r} is inconsistent: {err}") from None
        self = cls.__new__(cls)
        self.d, self.gamma, self.n_chains, self.batch = meta["d"], meta["gamma"], meta["n_chains"], meta["batch"]
        self.weight_law, self.center, self.dtype_name = meta["weight_law"], meta["center"], meta["dtype"]
        self.rank_dim = min(self.d, self.batch)
        self.backend, self.device = _resolve_backend(meta["backend"], device or meta["device"])
        self.steps = meta["steps"]
        self.burn_in, self.tau, self.thin = meta["burn_in"], meta["tau"], meta["thin"]
        self.soft_rank_thin, self.lemma1_violations = meta["soft_rank_thin"], meta["violations"]
        self._trace_every = meta["trace_every"]
        self._r_stats = _BatchMeans.from_state(arrays, "r")
        self._s_stats = _BatchMeans.from_state(arrays, "s")
        self._trace_steps = [int(s) for s in arrays["trace_steps"]]
        self._trace_r = [row.copy() for row in arrays["trace_r"]]
        if self.backend == "numpy":
            self._L = arrays["L"].astype(self.dtype_name)
            self._gens = [np.random.Generator(np.random.PCG64()) for _ in range(self.n_chains)]
            try:
                states = json.loads(str(arrays["rng"]))
                if not isinstance(states, list) or len(states) != self.n_chains:
                    raise ValueError(f"one state per chain ({self.n_chains})")
                for g, state in zip(self._gens, states):
                    g.bit_generator.state = state
            except (ValueError, TypeError, KeyError) as err:
                raise ValueError(f"checkpoint {path!r} is inconsistent: rng must hold numpy PCG64 states ({err})") \
                    from None
        else:
            import torch

            self._tdtype = getattr(torch, self.dtype_name)
            self._L = torch.as_tensor(arrays["L"], device=self.device).to(self._tdtype)
            self._gen = torch.Generator(device=self.device)
            try:
                self._gen.set_state(torch.from_numpy(arrays["rng"]))
            except (RuntimeError, TypeError) as err:
                raise ValueError(f"checkpoint {path!r} is inconsistent: rng must hold a torch generator state "
                                 f"({err})") from None
        return self


_CHECKPOINT_ARRAYS = ("L", "rng", "trace_steps", "trace_r", "r_blocks", "r_partial", "r_total", "r_total_sq",
                      "r_ints", "s_blocks", "s_partial", "s_total", "s_total_sq", "s_ints")


def _recorded(steps, burn_in, thin):
    """Number of steps ``ell`` in ``(burn_in, steps]`` with ``ell % thin == 0``."""
    return max(0, steps // thin - burn_in // thin)


def _check_checkpoint(meta, arrays):
    """Validate a checkpoint's metadata and arrays against each other (ValueError naming the field)."""
    if not isinstance(meta, dict):
        raise ValueError(f"meta must be a JSON object, got {type(meta).__name__}")
    missing = [key for key in ("d", "gamma", "n_chains", "batch", "weight_law", "center", "dtype", "backend",
                               "device", "steps", "burn_in", "tau", "thin", "soft_rank_thin", "violations",
                               "trace_every") if key not in meta]
    missing += [key for key in _CHECKPOINT_ARRAYS if key not in arrays]
    if missing:
        raise ValueError(f"fields missing: {', '.join(missing)}")
    if meta.get("version", 1) != 1:
        raise ValueError(f"version must be 1, got {meta.get('version')!r}")
    meta = dict(meta)
    meta["d"] = check_integer(meta["d"], "d", 2)
    meta["n_chains"] = check_integer(meta["n_chains"], "n_chains", 1)
    meta["batch"] = check_integer(meta["batch"], "batch", 1)
    meta["gamma"] = _check_gamma(meta["gamma"])
    _check_weight_law(meta["weight_law"])
    meta["center"] = check_bool(meta["center"], "center")
    meta["dtype"] = _dtype_name(meta["dtype"])
    if meta["backend"] not in ("numpy", "torch"):
        raise ValueError(f"backend must be 'numpy' or 'torch', got {meta['backend']!r}")
    steps = meta["steps"] = check_integer(meta["steps"], "steps", 0)
    burn_in = meta["burn_in"] = check_integer(meta["burn_in"], "burn_in", 0)
    meta["tau"] = _check_tau(meta["tau"])
    thin = meta["thin"] = check_integer(meta["thin"], "thin", 1)
    soft_thin = meta["soft_rank_thin"] = check_integer(meta["soft_rank_thin"], "soft_rank_thin", 1)
    meta["trace_every"] = check_integer(meta["trace_every"], "trace_every", 1)
    both = _recorded(steps, burn_in, thin * soft_thin // math.gcd(thin, soft_thin))
    meta["violations"] = check_integer(meta["violations"], "violations", 0)
    if meta["violations"] > both * meta["n_chains"]:
        raise ValueError(f"violations must be <= the {both * meta['n_chains']} steps recorded for both statistics, "
                         f"got {meta['violations']}")
    K, d = meta["n_chains"], meta["d"]
    L = arrays["L"]
    shape = (K, d, min(d, meta["batch"]))
    if L.shape != shape or not np.issubdtype(L.dtype, np.floating):
        raise ValueError(f"L must be a float array of shape (n_chains, d, min(d, batch)) = {shape}, got "
                         f"{L.dtype} {L.shape}")
    if not np.all(np.isfinite(L)):
        raise ValueError("L must be finite, got nan or inf entries")
    _check_rows(L, "L")
    for prefix, name, every in (("r", "r(H)", thin), ("s", "soft rank", soft_thin)):
        ints = arrays[f"{prefix}_ints"]
        if ints.shape != (4,) or not np.issubdtype(ints.dtype, np.integer):
            raise ValueError(f"{prefix}_ints must be 4 integers, got {ints.dtype} {ints.shape}")
        n_blocks, block_len, partial_count, count = (int(v) for v in ints)
        expected = _recorded(steps, burn_in, every)
        if count != expected:
            raise ValueError(f"{prefix}_ints count must be the {expected} {name} values recorded in steps "
                             f"({burn_in}, {steps}] every {every}, got {count}")
        blocks = arrays[f"{prefix}_blocks"]
        if n_blocks < 1 or block_len < 1 or not 0 <= partial_count < block_len or blocks.ndim != 2 \
                or blocks.shape[0] != K or blocks.shape[1] >= 2 * n_blocks \
                or blocks.shape[1] * block_len + partial_count != count:
            raise ValueError(f"{prefix}_blocks and {prefix}_ints must describe {count} recorded values in blocks, "
                             f"got blocks of shape {blocks.shape}, ints {ints.tolist()}")
        for part in ("partial", "total", "total_sq"):
            a = arrays[f"{prefix}_{part}"]
            if a.shape != (K,) or not np.all(np.isfinite(a)):
                raise ValueError(f"{prefix}_{part} must hold {K} finite values, got shape {a.shape}")
        if not np.all(np.isfinite(blocks)):
            raise ValueError(f"{prefix}_blocks must be finite")
    trace_steps, trace_r = arrays["trace_steps"], arrays["trace_r"]
    if trace_steps.ndim != 1 or trace_r.shape != (trace_steps.size, K):
        raise ValueError(f"trace_r must have shape (len(trace_steps), n_chains) = ({trace_steps.size}, {K}), "
                         f"got {trace_r.shape}")
    if trace_steps.size and (np.any(trace_steps <= burn_in) or np.any(trace_steps > steps)):
        raise ValueError(f"trace_steps must lie in (burn_in, steps] = ({burn_in}, {steps}]")
    return meta


def _dtype_name(dtype):
    name = str(dtype).replace("torch.", "")
    name = {"<class 'numpy.float64'>": "float64", "<class 'numpy.float32'>": "float32"}.get(name, name)
    if name not in ("float64", "float32"):
        raise ValueError(f"dtype must be float64 or float32, got {dtype!r}")
    return name


def _resolve_backend(backend, device):
    if backend not in (None, "numpy", "torch"):
        raise ValueError(f"backend must be 'numpy', 'torch' or None, got {backend!r}")
    default_cpu = backend is None and (str(device) == "cpu" or (device == "auto" and not _cuda_available()))
    if backend == "numpy" or default_cpu:
        if str(device) not in ("cpu", "auto"):
            raise ValueError(f"the numpy backend runs on the CPU, got device={device!r}")
        return "numpy", "cpu"
    try:
        from .montecarlo._torch import resolve_device
    except ImportError:
        raise ImportError("the torch backend needs torch: pip install \"sigdist[mc]\"") from None
    return "torch", resolve_device(device)


def _cuda_available():
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def _initial_factor(X, center):
    """``L`` with ``L L^T = X P X^T / N`` (``P`` the centring projection or I), shape (K, d, min(d, N))."""
    X = np.asarray(X, dtype=np.float64)
    if center:
        X = X - X.mean(axis=-1, keepdims=True)
    d, n = X.shape[-2:]
    F = X / math.sqrt(n)
    if n <= d:
        return F
    # N > d: compress to a d x d factor; (F^T = Q R) => F F^T = R^T R
    R = np.linalg.qr(np.swapaxes(F, -1, -2), mode="r")
    return np.swapaxes(R, -1, -2).copy()


# ----------------------------------------------------------------------------------------------- Lyapunov spectrum

def gaussian_lyapunov_exponents(d):
    r"""Lyapunov exponents of products of ``d x d`` matrices with i.i.d. N(0, 1) entries (closed form).

    .. math:: \mu_i = \tfrac12\big[\ln 2 + \psi\big(\tfrac{d - i + 1}{2}\big)\big], \quad i = 1..d,

    since in the QR (Benettin) recursion :math:`R_{ii}^2 \sim \chi^2_{d-i+1}` independently at every step
    (Newman 1986; Forrester 2013 for the complex case). Scaling the entries by ``s`` adds ``ln s``.
    """
    d = check_integer(d, "d", 1)
    return 0.5 * (math.log(2.0) + digamma((d - np.arange(1, d + 1) + 1) / 2.0))


@dataclass(frozen=True)
class LyapunovResult:
    """Lyapunov exponents ``(k,)`` (decreasing), standard errors over independent products, per-sample values."""

    exponents: np.ndarray
    standard_error: np.ndarray
    samples: np.ndarray
    n_steps: int
    gamma: float
    weight_law: str


def lyapunov_spectrum(d, n_steps, *, gamma=math.inf, weight_law="gaussian", k=None, n_samples=16, burn_in=0,
                      seed=None):
    r"""Lyapunov spectrum of :math:`B_\ell = \prod_{j \le \ell} \hat W_j` by batched QR (Benettin).

    :math:`\hat W = I + \gamma W` (``gamma = inf``: :math:`\hat W = W`), ``W`` i.i.d. with zero mean and unit
    variance. Each of ``n_samples`` independent products iterates :math:`Q_{j} R_j = \hat W_j Q_{j-1}` on
    ``k`` orthonormal columns and estimates :math:`\mu_i = \frac1\ell \sum_j \ln |(R_j)_{ii}|`; the standard
    error is the spread over samples. The gap :math:`\mu_1 - \mu_2 > 0` is the rate at which
    :math:`B_\ell X / \|B_\ell\|` collapses to rank one (Lemma 3):
    :math:`\sigma_2/\sigma_1 \approx e^{-(\mu_1 - \mu_2)\ell}`.

    Parameters
    ----------
    d : int >= 1
    n_steps : int >= 1
        Factors averaged (after ``burn_in`` discarded ones).
    gamma : float > 0 or math.inf
    weight_law : {"gaussian", "uniform"}
    k : int, optional
        Leading exponents to compute (default all ``d``).
    n_samples : int >= 2
    seed : int or numpy.random.Generator

    Returns
    -------
    LyapunovResult
    """
    d = check_integer(d, "d", 1)
    n_steps = check_integer(n_steps, "n_steps", 1)
    burn_in = check_integer(burn_in, "burn_in", 0)
    n_samples = check_integer(n_samples, "n_samples", 2)
    k = d if k is None else check_integer(k, "k", 1)
    if k > d:
        raise ValueError(f"k must be <= d = {d}, got {k}")
    gamma = _check_gamma(gamma)
    _check_weight_law(weight_law)
    rng = np.random.default_rng(check_seed(seed))
    Q = np.broadcast_to(np.eye(d)[:, :k], (n_samples, d, k)).copy()
    logs = np.zeros((n_samples, k))
    for step in range(burn_in + n_steps):
        Q, R = np.linalg.qr(_residual_apply(_draw_weights(rng, weight_law, (n_samples, d, d)), Q, gamma))
        if step >= burn_in:
            logs += np.log(np.abs(np.diagonal(R, axis1=-2, axis2=-1)))
    samples = logs / n_steps
    return LyapunovResult(exponents=samples.mean(0), standard_error=samples.std(0, ddof=1) / math.sqrt(n_samples),
                          samples=samples, n_steps=n_steps, gamma=gamma, weight_law=weight_law)


# ----------------------------------------------------------------------------------------------- real networks

@dataclass(frozen=True)
class RankProfile:
    """Rank measures of ``H_l`` against depth ``l = 0..depth``: means and standard errors over networks.

    ``numerical_rank`` uses ``rtol`` (recorded); ``soft_rank`` uses ``tau`` on BN-scaled rows (see
    :func:`hidden_rank_profile`).
    """

    depth: np.ndarray
    numerical_rank: np.ndarray
    numerical_rank_se: np.ndarray
    rank_bound: np.ndarray
    rank_bound_se: np.ndarray
    soft_rank: np.ndarray
    soft_rank_se: np.ndarray
    rtol: float
    tau: float


def hidden_rank_profile(d, depth, *, batch=None, activation="linear", batch_norm=True, gamma=math.inf,
                        n_networks=10, rtol, tau=0.5, center=False, weight_law="gaussian", inputs=None, seed=None):
    r"""Rank of the hidden representations of real networks against depth (the paper's Fig. 2).

    Layer :math:`\ell`: :math:`H_\ell = \phi(\mathrm{BN}(\hat W_\ell H_{\ell-1}))` with BN, or
    :math:`\phi(\hat W_\ell H_{\ell-1})` without (``phi`` linear or relu). Weight scale does not change
    any rank measure, so vanilla layers are rescaled to unit Frobenius norm (the paper's
    :math:`\tilde H = B X / \|B\|`) to keep deep products in range. The soft rank is taken on
    ``H`` with rows scaled to mean square 1 (the BN scaling), which is what eq. 3 presumes.

    Parameters
    ----------
    d : int >= 2
    depth : int >= 1
    batch : int, optional
        ``N`` (default ``d``).
    activation : {"linear", "relu"}
    batch_norm : bool
    gamma : float > 0 or math.inf
    n_networks : int >= 2
    rtol : float
        Relative tolerance of :func:`sigdist.rank.numerical_rank` (required: no hidden default).
    tau : float in [0, 1]
    center : bool
        Mean-centring in BN.
    inputs : array_like (d, N), optional
        Default: i.i.d. N(0, 1) (a fresh draw per network).
    seed : int or numpy.random.Generator

    Returns
    -------
    RankProfile
    """
    d = check_integer(d, "d", 2)
    depth = check_integer(depth, "depth", 1)
    n = d if batch is None else check_integer(batch, "batch", 1)
    K = check_integer(n_networks, "n_networks", 2)
    if activation not in ("linear", "relu"):
        raise ValueError(f"activation must be 'linear' or 'relu', got {activation!r}")
    gamma = _check_gamma(gamma)
    tau = _check_tau(tau)
    _check_weight_law(weight_law)
    _check_tolerances(rtol, 0.0)
    batch_norm, center = check_bool(batch_norm, "batch_norm"), check_bool(center, "center")
    rng = np.random.default_rng(check_seed(seed))
    if inputs is None:
        H = rng.standard_normal((K, d, n))
    else:
        X = _check_matrix(inputs, "inputs")
        if X.shape != (d, n):
            raise ValueError(f"inputs must have shape (d, N) = ({d}, {n}), got {X.shape}")
        H = np.broadcast_to(X, (K, d, n)).copy()
    records = []

    def record(H):
        rms = np.sqrt(np.mean(H * H, axis=-1, keepdims=True))
        alive = np.where(rms > 0, rms, 1.0)  # a dead relu row has no scale to normalise; it stays zero
        scaled = H / alive
        records.append((numerical_rank(H, rtol=rtol), rank_bound(H), soft_rank(scaled, tau)))

    record(H)
    for _ in range(depth):
        pre = _residual_apply(_draw_weights(rng, weight_law, (K, d, d)), H, gamma)
        if batch_norm:
            if center:
                pre = pre - pre.mean(axis=-1, keepdims=True)
            rms = np.sqrt(np.mean(pre * pre, axis=-1, keepdims=True))
            if np.any(rms == 0):
                raise FloatingPointError("a pre-activation row is zero: batch norm divides by it")
            pre = pre / rms
        else:
            pre = pre / np.linalg.norm(pre, axis=(-2, -1), keepdims=True)
        H = np.maximum(pre, 0.0) if activation == "relu" else pre
        if np.any(np.linalg.norm(H, axis=(-2, -1)) == 0):
            raise FloatingPointError("a network's representation became exactly zero (all relu units dead)")
        record(H)
    num, rb, sr = (np.array([rec[j] for rec in records], dtype=np.float64) for j in range(3))
    se = lambda a: a.std(1, ddof=1) / math.sqrt(K)  # noqa: E731
    return RankProfile(depth=np.arange(depth + 1), numerical_rank=num.mean(1), numerical_rank_se=se(num),
                       rank_bound=rb.mean(1), rank_bound_se=se(rb), soft_rank=sr.mean(1), soft_rank_se=se(sr),
                       rtol=float(rtol), tau=tau)
