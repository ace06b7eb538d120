r"""The batch-norm rank chain of Daneshmand et al. (2020): many seeded chains, long-run averages, checkpoints.

A linear network of identical batch-normalised layers (eq. 1, 2 with :math:`\alpha = 0`, :math:`\beta = 1`)
is the Markov chain :math:`H_{\ell+1} = \mathrm{BN}(\hat W_\ell H_\ell)`, :math:`\hat W = I + \gamma W`
(:mod:`sigdist.batchnorm`). Every rank measure depends on ``H`` only through :math:`M = H H^\top / N`, so the
chain runs on a factor :math:`M = L L^\top` (:func:`sigdist.batchnorm.gram_factor`), ``L`` of shape
``width x min(width, N)``: :math:`L_{\ell+1} = D \hat W L_\ell` with ``D`` the inverse row norms of
:math:`\hat W L_\ell`. Mean-centring acts on :math:`H_0` only: :math:`\hat W H P = (\hat W H) P` for the centring
projection ``P``, and BN rescales rows, so a centred ``H`` stays centred.

On the CPU a step is one ``gemm`` (:math:`2 d^2 m` flops, ``m = min(d, N)``), and where a statistic is recorded
the Gram matrix by ``syrk`` (:math:`d m^2`) and the inertia of :math:`G - \tau I` by ``sytrf`` (:math:`m^3/3`),
all in one compiled loop per chain (:mod:`sigdist._rank_kernels`); chains run in threads, one per core, each
with one BLAS thread.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import threading
import time
import warnings
from dataclasses import dataclass

import numpy as np

from ._batch_means import BatchMeans
from ._checks import check_bool, check_integer, check_output_path
from ._device import cuda_available, resolve_device
from ._progress import check_progress, progress_bar
from ._rank_checkpoint import numpy_generators, read_checkpoint, torch_generator_from_state, write_checkpoint
from ._rank_checks import check_dtype, check_matrix, check_rows, check_tau, identical_layer
from ._rank_kernels import chain_block, one_blas_thread, worker_pool
from ._random import spawn, torch_generator
from ._result import Result
from ._warnings import SigdistWarning
from .batchnorm import gram_factor, residual_apply
from .network import Layer, Network
from .weights import MATRIX_LAWS, WEIGHT_LAWS, get_weight_law

__all__ = ["RankChain", "RankChainResult"]

_TRACE_POINTS = 4000  # the thinned trace of r(H) kept for plots holds between 2000 and 4000 points


@dataclass(frozen=True, eq=False, repr=False)
class RankChainResult(Result):
    r"""Long-run averages of the BN rank chain, with standard errors by batch means.

    Attributes
    ----------
    network : Network
        The chain's layer (depth 1).
    width, gamma, batch, n_networks : int, float, int, int
        Width ``d``, residual strength, batch ``N`` and number of independent chains (networks).
    n_steps, burn_in : int
        Steps taken by every chain; steps discarded before recording.
    tau : float
        Soft-rank threshold (eq. 3).
    r_mean, r_mean_se : float
        :math:`\frac1L\sum_\ell r(H_\ell)` over recorded steps and chains, and its standard error
        (batch means pooled over chains: autocorrelation within a block is accounted for).
    soft_rank_mean, soft_rank_mean_se : float
        The same for :math:`\mathrm{rank}_\tau(H_\ell)`.
    r_network_means, soft_rank_network_means : ndarray, shape (n_networks,)
        Each chain's own long-run average.
    tau_int_r, tau_int_soft_rank : float
        Integrated autocorrelation times (in recorded samples) from the batch means.
    lemma1_violations : int
        Recorded steps with :math:`\mathrm{rank}_\tau(H) < (1-\tau)^2 r(H)` (Lemma 1 says 0).
    n_recorded, n_blocks, block_len : int
        Recorded samples of ``r`` per chain; complete blocks per chain and their length.
    trace_steps, trace_r : ndarray
        A thinned trace of ``r(H_\ell)``: the steps, and the values of shape (len(trace_steps), n_networks).
    """

    network: Network
    width: int
    gamma: float
    batch: int
    n_networks: int
    n_steps: int
    burn_in: int
    tau: float
    r_mean: float
    r_mean_se: float
    soft_rank_mean: float
    soft_rank_mean_se: float
    r_network_means: np.ndarray
    soft_rank_network_means: np.ndarray
    tau_int_r: float
    tau_int_soft_rank: float
    lemma1_violations: int
    n_recorded: int
    n_blocks: int
    block_len: int
    trace_steps: np.ndarray
    trace_r: np.ndarray

    _dims = {"r_network_means": ("network",), "soft_rank_network_means": ("network",),
             "trace_r": ("step", "network")}
    _coords = {"step": "trace_steps", "network": lambda self: np.arange(self.n_networks)}


class RankChain:
    r"""Many independent BN rank chains (eq. 1) run in parallel, seeded, with checkpoints.

    Parameters
    ----------
    network : Network, Layer or list of Layers
        Identical layers with ``batch_norm=True`` and a linear activation (:meth:`Network.bn_chain` builds
        one): their ``width`` (``>= 2``), residual strength ``gamma`` (:math:`\hat W = I + \gamma W`,
        ``math.inf``: no skip connection), ``weight_law`` and ``sigma_w2`` (``W = sqrt(sigma_w2) u``,
        ``u`` from the weight law; without a skip connection BN removes the scale). The depth is not
        read: :meth:`run` says how many steps (layers) to take.
    n_networks : int >= 1
        Independent chains (random networks) run side by side.
    batch : int >= 1, optional
        Batch size ``N`` (default: the width); ``N < width`` is the regime the paper leaves open.
    seed : None, int, SeedSequence, numpy or torch Generator
        Numpy backend: chain ``k`` draws from its own stream ``spawn(seed, n_networks)[k]`` (``H_0``
        first, then ``W_1, W_2, ...`` row-major), so a chain's path does not depend on how many chains run
        beside it or on threads. Torch backend: one ``torch.Generator`` (:func:`sigdist._random.torch_generator`);
        the same seed gives the same numbers on the same device.
    device : {"auto", "cpu", "cuda", "cuda:k"}
        ``"auto"``: CUDA when torch sees one, else the CPU.
    dtype : numpy or torch float dtype
        float64 (default) or float32.
    center : bool
        Mean-centring in BN (acts on :math:`H_0` only in the linear chain, see the module notes).
    x0 : array_like, shape (width, N) or (n_networks, width, N), optional
        :math:`H_0`; default i.i.d. N(0, 1) entries.
    backend : {"numpy", "torch"}, optional
        Default: numpy (BLAS, numba random numbers, threads) on the CPU, torch on CUDA.

    Notes
    -----
    The state is the factor ``L`` of :math:`M(H_\ell) = L L^\top`, shape ``(n_networks, width, min(width, N))``.
    :math:`r(H) = d^2 / \|M\|_F^2` after the first step (BN makes :math:`\mathrm{diag}\, M = 1`); the soft
    rank counts the eigenvalues of ``M`` at least ``tau`` by inertia (the Bunch-Kaufman count of
    :func:`sigdist.rank.soft_rank_from_gram`, float32 chains in float32) on the CPU and by ``eigvalsh`` with
    torch. The numpy backend spreads the chains over the cores in threads and limits every BLAS library to one
    thread while it steps (``threadpoolctl``; restored after each block).

    References
    ----------
    Daneshmand et al. (2020), eq. 1-4, Lemma 1, Theorem 2.

    Examples
    --------
    >>> from sigdist import Network
    >>> from sigdist.rank_chain import RankChain
    >>> res = RankChain(Network.bn_chain(16, gamma=0.5), n_networks=2, seed=0).run(1000, burn_in=100, tau=0.5)
    >>> bool(2.5 < res.r_mean < 4.5), res.lemma1_violations
    (True, 0)
    """

    def __init__(self, network, *, n_networks=1, batch=None, seed=None, device="auto", dtype=np.float64,
                 center=False, x0=None, backend=None):
        _, layer = identical_layer(network, "network", batch_norm=True)
        self._set_layer(layer)
        self.n_networks = check_integer(n_networks, "n_networks", 1)
        self.batch = self.width if batch is None else check_integer(batch, "batch", 1)
        self.center = check_bool(center, "center")
        if self.center and self.batch < 2:
            raise ValueError("batch must be >= 2 with center=True (a centred batch of one is zero)")
        self.rank_dim = min(self.width, self.batch)
        self.dtype_name = check_dtype(dtype)
        self.backend, self.device = _resolve_backend(backend, device)
        if self.backend == "numpy":
            try:  # a torch-only sampler (a user's callable) cannot fill numpy streams
                self.weight_law.sample(np.random.default_rng(0), (0,))
            except ValueError as err:
                raise ValueError(f"network's weight_law {self.weight_law.name!r} needs backend='torch' ({err})") \
                    from None
        self.n_steps = 0
        self.burn_in = self.tau = self.thin = self.soft_rank_thin = None
        self._r_stats = BatchMeans(self.n_networks)
        self._s_stats = BatchMeans(self.n_networks)
        self.lemma1_violations = 0
        self._trace_steps, self._trace_r = [], []
        self._trace_every = None
        X = self._x0(x0)
        if self.backend == "numpy":
            self._gens = [np.random.Generator(np.random.PCG64(s)) for s in spawn(seed, self.n_networks)]
            if X is None:
                X = np.empty((self.n_networks, self.width, self.batch))
                for k, g in enumerate(self._gens):
                    WEIGHT_LAWS["gaussian"].fill(g, X[k])
            self._L = gram_factor(X, self.center).astype(self.dtype_name)
        else:
            import torch

            self._gen = torch_generator(seed, self.device)
            self._tdtype = getattr(torch, self.dtype_name)
            if X is None:
                X = torch.randn((self.n_networks, self.width, self.batch), generator=self._gen, device=self.device,
                                dtype=torch.float64).cpu().numpy()
            self._L = torch.as_tensor(gram_factor(X, self.center), device=self.device).to(self._tdtype)

    # -- construction helpers
    def _set_layer(self, layer):
        self.layer = layer
        self.network = Network([layer], input_width=layer.width)
        self.width, self.gamma, self.sigma_w2 = layer.width, layer.gamma, layer.sigma_w2
        self.weight_law = layer.weight_law
        # W = sqrt(sigma_w2) u: with a skip connection the scale enters as gamma sqrt(sigma_w2); without, BN removes it
        self._gamma_u = self.gamma * math.sqrt(self.sigma_w2)

    def _x0(self, x0):
        if x0 is None:
            return None
        if type(x0).__module__.startswith("torch"):
            x0 = x0.detach().cpu().numpy()
        X = check_matrix(x0, "x0")
        if X.ndim == 2:
            X = np.broadcast_to(X, (self.n_networks, *X.shape)).copy()
        if X.shape != (self.n_networks, self.width, self.batch):
            raise ValueError(f"x0 must have shape (width, N) = ({self.width}, {self.batch}) or (n_networks, width, N) "
                             f"= ({self.n_networks}, {self.width}, {self.batch}), got {X.shape}")
        Xc = X - X.mean(axis=-1, keepdims=True) if self.center else X
        check_rows(Xc, "x0" + (" (centred)" if self.center else ""))
        return X

    # -- public
    @property
    def factor(self):
        """The current factor ``L`` (numpy, shape (n_networks, width, min(width, N))) with ``M(H) = L L^T``."""
        return self._L if self.backend == "numpy" else self._L.cpu().numpy()

    def gram(self):
        """The current ``M(H_l)``, shape (n_networks, width, width)."""
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
        progress : bool or None
            A progress bar on stderr: ``None`` shows it once the run has taken 2 s, ``True`` at once,
            ``False`` never.

        Returns
        -------
        RankChainResult
        """
        n_steps = check_integer(n_steps, "n_steps", 1)
        progress = check_progress(progress)
        burn_in = check_integer(burn_in, "burn_in", 0)
        if n_steps <= burn_in:
            raise ValueError(f"n_steps must be > burn_in (nothing would be recorded), got n_steps={n_steps}, "
                             f"burn_in={burn_in}")
        tau = check_tau(tau)
        thin = check_integer(thin, "thin", 1)
        soft_rank_thin = check_integer(soft_rank_thin, "soft_rank_thin", 1)
        for value, name in ((thin, "thin"), (soft_rank_thin, "soft_rank_thin")):
            if n_steps // value <= burn_in // value:  # no multiple of it in (burn_in, n_steps]
                raise ValueError(f"{name} must leave a recorded step in (burn_in, n_steps] = ({burn_in}, {n_steps}] "
                                 f"(nothing would be recorded), got {name}={value}")
        if checkpoint is not None:
            checkpoint = check_output_path(checkpoint, "checkpoint")  # now, not after the run
            registered = {**WEIGHT_LAWS, **MATRIX_LAWS}
            if self.weight_law.name not in registered:
                raise ValueError(f"checkpoint needs a registered weight_law ({', '.join(registered)}) to be "
                                 f"resumed, got {self.weight_law.name!r}")
        if not (isinstance(checkpoint_every, numbers.Real) and checkpoint_every > 0):
            raise ValueError(f"checkpoint_every must be a number of seconds > 0, got {checkpoint_every!r}")
        settings = (burn_in, tau, thin, soft_rank_thin)
        if self.burn_in is not None and settings != (self.burn_in, self.tau, self.thin, self.soft_rank_thin):
            raise ValueError("a continued run must keep burn_in, tau, thin and soft_rank_thin: the chain has "
                             f"{(self.burn_in, self.tau, self.thin, self.soft_rank_thin)}, got {settings}")
        self.burn_in, self.tau, self.thin, self.soft_rank_thin = settings
        if self._trace_every is None:
            self._trace_every = thin
        last_save = time.monotonic()
        block = self._block_len()
        committed = self._snapshot()
        with progress_bar(n_steps, f"rank chain width={self.width}", progress, unit="step",
                          initial=self.n_steps) as bar:
            try:
                while self.n_steps < n_steps:
                    size = min(block, n_steps - self.n_steps)
                    self._advance(size)
                    committed = self._snapshot()
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
        if checkpoint is not None:
            self._save(checkpoint, committed)
        return self.result()

    def result(self):
        """The statistics accumulated so far (see :class:`RankChainResult`)."""
        r_mean, r_mean_se, r_means, r_tau = self._r_stats.summary()
        s_mean, s_se, s_means, s_tau = self._s_stats.summary()
        if self._r_stats.count and self._r_stats.blocks.shape[1] < 8:
            warnings.warn(f"only {self._r_stats.blocks.shape[1]} complete batch-means blocks per chain: r_mean_se is "
                          "unreliable; run more steps", SigdistWarning, stacklevel=2)
        trace_r = np.array(self._trace_r).reshape(-1, self.n_networks)
        return RankChainResult(
            network=self.network, width=self.width, gamma=self.gamma, batch=self.batch, n_networks=self.n_networks,
            n_steps=self.n_steps, burn_in=self.burn_in or 0, tau=self.tau if self.tau is not None else float("nan"),
            r_mean=r_mean, r_mean_se=r_mean_se, soft_rank_mean=s_mean, soft_rank_mean_se=s_se, r_network_means=r_means,
            soft_rank_network_means=s_means, tau_int_r=r_tau, tau_int_soft_rank=s_tau,
            lemma1_violations=self.lemma1_violations, n_recorded=self._r_stats.count,
            n_blocks=self._r_stats.blocks.shape[1], block_len=self._r_stats.block_len,
            trace_steps=np.array(self._trace_steps, dtype=np.int64), trace_r=trace_r)

    # -- stepping
    def _block_len(self):
        per_step = self.n_networks * self.width * self.width * 8
        return int(max(1, min(256, (32 << 20) // per_step)))

    def _advance(self, size):
        """Take ``size`` steps of every chain and record their statistics."""
        first = self.n_steps + 1
        idx = np.arange(first, first + size)
        rec_r = (idx > self.burn_in) & (idx % self.thin == 0)
        rec_s = (idx > self.burn_in) & (idx % self.soft_rank_thin == 0)
        if self.backend == "numpy":
            r_vals, s_vals = self._advance_numpy(size, rec_r, rec_s)
        else:
            r_vals, s_vals = self._advance_torch(size, rec_r, rec_s)
        self.n_steps += size
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
        K, d = self.n_networks, self.width
        L = self._L.copy()  # the committed state (a snapshot, or a caller's view of `factor`) stays as it was
        r_vals = np.full((K, size), np.nan)
        s_vals = np.full((K, size), np.nan)
        failed = np.full(K, -1)
        buffers = threading.local()
        tau = float(self.tau) if self.tau > 0 else 0.0
        residual = not math.isinf(self.gamma)

        def one_chain(k):
            W = getattr(buffers, "W", None)
            if W is None:
                W = buffers.W = np.empty((size, d, d), dtype=self.dtype_name)
            self.weight_law.fill(self._gens[k], W)
            failed[k] = chain_block(W, L[k], self._gamma_u, residual, rec_r, rec_s, tau, r_vals[k], s_vals[k])

        workers = min(K, os.cpu_count() or 1)
        if workers > 1:  # chains spread over the cores, one BLAS thread each: the kernels release the GIL
            with one_blas_thread():
                list(worker_pool().map(one_chain, range(K)))
        else:
            for k in range(K):
                one_chain(k)
        if np.any(failed >= 0):
            step = self.n_steps + int(failed[failed >= 0].min()) + 1
            raise FloatingPointError(f"a row of W_hat H became zero or non-finite at step {step}")
        self._L = L
        return r_vals.T, s_vals.T

    def _advance_torch(self, size, rec_r, rec_s):
        import torch

        K, d, r = self.n_networks, self.width, self.rank_dim
        L = self._L
        r_out = torch.full((size, K), float("nan"), dtype=torch.float64, device=self.device)
        s_out = torch.full((size, K), float("nan"), dtype=torch.float64, device=self.device)
        for i in range(size):
            W = self.weight_law.sample_torch(self._gen, (K, d, d), self._tdtype, self.device)
            A = residual_apply(W, L, self._gamma_u)
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
            raise FloatingPointError(f"the chain state became non-finite before step {self.n_steps + size}")
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
        return {"n_steps": self.n_steps, "L": L, "rng": rng, "r": self._r_stats.copy(), "s": self._s_stats.copy(),
                "violations": self.lemma1_violations, "trace": (list(self._trace_steps), list(self._trace_r)),
                "trace_every": self._trace_every}

    def _restore(self, snap):
        self.n_steps, self._L = snap["n_steps"], snap["L"]
        self._r_stats, self._s_stats, self.lemma1_violations = snap["r"], snap["s"], snap["violations"]
        self._trace_steps, self._trace_r = list(snap["trace"][0]), list(snap["trace"][1])
        self._trace_every = snap["trace_every"]
        if self.backend == "numpy":
            for g, state in zip(self._gens, json.loads(snap["rng"])):
                g.bit_generator.state = state
        else:
            import torch

            self._gen.set_state(torch.from_numpy(snap["rng"]))

    def _save(self, path, snap):
        write_checkpoint(path, self, snap)

    @classmethod
    def load(cls, path, *, device=None):
        """A chain restored from a checkpoint written by :meth:`run`; ``run`` continues it exactly.

        The checkpoint is checked for consistency first (ranges of its settings, the recorded counts against
        ``n_steps``, burn-in and thinning, the factor's shape, finiteness and rows): a damaged or edited file,
        or one of an older format, raises ``ValueError`` naming the field instead of reporting garbage.
        """
        path = os.fspath(path)
        meta, arrays = read_checkpoint(path)
        self = cls.__new__(cls)
        self._set_layer(Layer(meta["width"], meta["sigma_w2"], 0.0, "linear", batch_norm=True, gamma=meta["gamma"],
                              weight_law=get_weight_law(meta["weight_law"])))
        self.n_networks, self.batch = meta["n_networks"], meta["batch"]
        self.center, self.dtype_name = meta["center"], meta["dtype"]
        self.rank_dim = min(self.width, self.batch)
        self.backend, self.device = _resolve_backend(meta["backend"], device or meta["device"])
        self.n_steps = meta["n_steps"]
        self.burn_in, self.tau, self.thin = meta["burn_in"], meta["tau"], meta["thin"]
        self.soft_rank_thin, self.lemma1_violations = meta["soft_rank_thin"], meta["lemma1_violations"]
        self._trace_every = meta["trace_every"]
        self._r_stats = BatchMeans.from_state(arrays, "r")
        self._s_stats = BatchMeans.from_state(arrays, "s")
        self._trace_steps = [int(s) for s in arrays["trace_steps"]]
        self._trace_r = [row.copy() for row in arrays["trace_r"]]
        if self.backend == "numpy":
            self._L = arrays["L"].astype(self.dtype_name)
            self._gens = numpy_generators(path, arrays, self.n_networks)
        else:
            import torch

            self._tdtype = getattr(torch, self.dtype_name)
            self._L = torch.as_tensor(arrays["L"], device=self.device).to(self._tdtype)
            self._gen = torch_generator_from_state(path, arrays, self.device)
        return self


def _resolve_backend(backend, device):
    """``(backend, device)``: numpy runs on the CPU; torch on the resolved device."""
    if backend not in (None, "numpy", "torch"):
        raise ValueError(f"backend must be 'numpy', 'torch' or None, got {backend!r}")
    if not isinstance(device, str) and type(device).__name__ != "device":
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:k', got {device!r}")
    default_cpu = backend is None and (str(device) == "cpu" or (device == "auto" and not cuda_available()))
    if backend == "numpy" or default_cpu:
        if str(device) not in ("cpu", "auto"):
            raise ValueError(f"the numpy backend runs on the CPU, got device={device!r}")
        return "numpy", "cpu"
    return "torch", resolve_device(device)
