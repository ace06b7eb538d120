r"""Monte Carlo campaigns: ``n_networks`` real networks in seeded blocks across dask workers, reduced on the fly.

A campaign never holds its samples: each block of ``block`` networks is simulated on a worker
(:func:`sigdist.montecarlo.simulate` when torch is installed, on the worker's GPU when it has one;
:func:`sigdist.montecarlo.dense_squared_norms` otherwise) and reduced there to what is compared
with the exact side: the sums of :math:`z^k`, ``k = 1..4`` (moments with standard errors), the number
of exact zeros (the atom) and counts on a fixed log-grid histogram. The driver adds the blocks'
reductions in block order, so the result is the same to the bit on one worker or on fifty: block
``k`` draws from ``SeedSequence(entropy, spawn_key=(*spawn_key, k))`` whichever worker runs it,
and counts are integers.
"""

from __future__ import annotations

import contextlib
import math
import re
import warnings
from dataclasses import dataclass

import numpy as np

from ._checks import check_integer, check_input_norm
from ._random import seed_sequence
from ._result import Result
from ._progress import check_progress, progress_bar
from ._sweep_engine import completed, embedded_client, pin_threads
from ._warnings import SigdistWarning
from .network import Network, as_network

__all__ = ["Campaign", "campaign"]

_DECADES = 12  # the default histogram spans scale * 10^-12 .. scale * 10^12
_PER_DECADE = 20


@dataclass(frozen=True, repr=False)
class Campaign(Result):
    r"""The reduction of a Monte Carlo campaign over ``n_networks`` networks (:func:`campaign`).

    Attributes
    ----------
    n_networks, block, n_blocks : int
        Networks drawn; networks per block (the unit of seeding and of work); blocks.
    first_moment, first_moment_se, second_moment, second_moment_se : float
        Sample means of :math:`z` and :math:`z^2` (``z = |x^(L)|^2``) and their standard errors
        :math:`\sqrt{(\overline{z^{2k}} - \overline{z^k}^2)/n}`, over all ``n_networks``: where
        ``nonfinite > 0``, ``inf`` (some ``z`` overflowed) or NaN (some ``z`` is NaN), with a
        :class:`~sigdist.SigdistWarning` naming the count.
    atom, atom_se : float
        The share of networks with ``z = 0`` and its standard error.
    power_sums : ndarray, shape (4,)
        :math:`\sum z^k`, ``k = 1..4`` (what the moments come from).
    bin_edges : ndarray, shape (n_bins + 1,)
        The log grid (fixed before any sample is drawn).
    counts : ndarray of int64, shape (n_bins,)
        Networks with ``z`` in each bin (``edges[i] <= z < edges[i + 1]``; the last bin includes its right edge).
    below, above, nonfinite : int
        Networks with ``0 < z < edges[0]``, ``z > edges[-1]``, and ``z`` not finite.
    backend : str
        ``"torch:<device>"`` or ``"numpy"``.
    seed : str
        The root entropy (``SeedSequence.entropy``), to rerun the campaign.
    """

    n_networks: int
    block: int
    n_blocks: int
    first_moment: float
    first_moment_se: float
    second_moment: float
    second_moment_se: float
    atom: float
    atom_se: float
    power_sums: np.ndarray
    bin_edges: np.ndarray
    counts: np.ndarray
    below: int
    above: int
    nonfinite: int
    backend: str
    seed: str

    _dims = {"counts": ("bin",), "bin_edges": ("edge",), "power_sums": ("order",)}
    _coords = {"bin": lambda self: np.sqrt(self.bin_edges[:-1] * self.bin_edges[1:]),
               "order": lambda self: np.arange(1, 5)}

    def edge_cdf(self):
        r"""The empirical CDF at the bin edges, :math:`\hat F(e_i) = \#\{z \le e_i\} / n` (up to ties at an edge),
        and its standard error :math:`\sqrt{\hat F(1 - \hat F)/n}`: compare with ``law.cdf(bin_edges)``."""
        zeros = round(self.atom * self.n_networks)
        below = zeros + self.below + np.concatenate([[0], np.cumsum(self.counts)])
        F = below / self.n_networks
        return F, np.sqrt(F * (1 - F) / self.n_networks)

    def quantile(self, q):
        """Quantiles from the histogram (log-linear inside a bin; exact to a bin's width, 1/20 of a decade).

        The histogram resolves the levels ``q <= atom`` (the quantile is 0) and ``F(edges[0]) <= q <=
        F(edges[-1])``; a level in the networks below the first edge or above the last one (or non-finite)
        is refused with a ``ValueError`` naming that range.
        """
        q = np.asarray(q, dtype=np.float64)
        if np.any((q < 0) | (q > 1)) or np.any(np.isnan(q)):
            raise ValueError(f"q must be in [0, 1], got {q!r}")
        F, _ = self.edge_cdf()
        outside = (q > self.atom) & ((q < F[0]) | (q > F[-1]))
        if np.any(outside):
            raise ValueError(f"q must be <= the atom {self.atom:.6g} or in the histogram's range "
                             f"[{F[0]:.6g}, {F[-1]:.6g}] (the CDF at its first and last edges; {self.below} networks "
                             f"fell below it, {self.above} above, {self.nonfinite} not finite), got "
                             f"{q[outside].tolist() if q.ndim else float(q)}")
        log_e = np.log(self.bin_edges)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.exp(np.interp(q, F, log_e, left=np.nan, right=np.nan))
        out = np.where(q <= self.atom, 0.0, out)
        return out if out.ndim else float(out)


def _reduce(z, edges):
    """One block's reduction: power sums, zeros, histogram counts, out-of-grid and non-finite counts."""
    finite = np.isfinite(z)
    zf = z[finite]
    with np.errstate(over="ignore"):
        sums = np.array([np.sum(zf ** k) for k in range(1, 5)])
    positive = zf[zf > 0]
    counts, _ = np.histogram(positive, bins=edges)
    return {"power_sums": sums, "zeros": int(np.sum(zf == 0)), "counts": counts.astype(np.int64),
            "below": int(np.sum(positive < edges[0])), "above": int(np.sum(positive > edges[-1])),
            "nonfinite": int(np.sum(~finite)), "posinf": int(np.sum(z == np.inf)), "n": int(z.size)}


def _has_torch():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def run_block(network, x0, count, entropy, spawn_key, k, edges, backend, device):
    """Simulate block ``k`` (``count`` networks) from its own seed and reduce it (runs on a worker)."""
    pin_threads()
    ss = np.random.SeedSequence(entropy, spawn_key=(*spawn_key, int(k)))
    if backend == "torch":
        from .montecarlo import simulate

        sim = simulate(network, x0, count, seed=ss, device=device)
        z, used = sim.squared_norms[:, -1, 0], f"torch:{sim.device}"
    else:
        from .montecarlo import dense_squared_norms

        z, used = dense_squared_norms(network, x0, count, seed=ss)[:, -1], "numpy"
    out = _reduce(z, edges)
    out["backend"] = used
    return out


def _default_edges(network, y0, bins):
    """The fixed log grid: ``bins`` bins over 24 decades around the exact mean (or ``y0``)."""
    from .propagation import squared_norm_moments

    try:
        scale = float(squared_norm_moments(network, y0).first_moment[-1])
    except ValueError:
        scale = y0
    if not (math.isfinite(scale) and scale > 0):
        scale = 1.0
    return scale * np.logspace(-_DECADES, _DECADES, bins + 1)


def campaign(network, y0=1.0, n_networks=100_000, *, client=None, block=None, seed=None, bins=None,
             backend="auto", device="auto", progress=None):
    r"""Simulate ``n_networks`` networks in seeded blocks across workers, reduced to moments and a histogram.

    Parameters
    ----------
    network : Network, Layer, list of Layers or list of widths
        Anything :func:`sigdist.as_network` takes. The input is
        ``x0 = sqrt(y0 / N_0) (1, ..., 1)`` with ``N_0`` the network's ``input_width`` (default: the first
        layer's width).
    y0 : float
        The squared input norm ``|x^(0)|^2`` (``>= 0``).
    n_networks : int
        Networks drawn (``>= 1``).
    client : None, "serial" or distributed.Client
        As in :func:`sigdist.sweep`: None starts an embedded ``LocalCluster`` (one single-threaded
        process per core); ``"serial"`` runs here.
    block : int, optional
        Networks per block (the unit of seeding: the result depends on it, not on the workers);
        default ``min(n_networks, 100_000)``.
    seed : None, int, SeedSequence or numpy Generator
        Block ``k`` draws from ``SeedSequence(entropy, spawn_key=(*spawn_key, k))``.
    bins : int or array_like, optional
        The histogram: a number of log bins over ``scale * 10^-12 .. scale * 10^12`` (``scale`` the
        exact mean where :func:`~sigdist.squared_norm_moments` has it, else ``y0``; default 480, 20 a
        decade), or the increasing positive edges themselves.
    backend : {"auto", "torch", "numpy"}
        ``"auto"``: torch's exact reduced sampler when torch is installed, else numpy's dense networks.
    device : str
        For torch: ``"auto"`` (the worker's CUDA when present), ``"cpu"``, ``"cuda"``, ``"cuda:N"``,
        ``"mps"``; the numpy backend takes ``"auto"`` or ``"cpu"`` only.
    progress : None, bool
        A bar over blocks (None: once the work has run about 2 s).

    Returns
    -------
    Campaign
        Moments with standard errors, the atom, the histogram (``to_xarray()``: ``counts`` on dim ``bin``).

    Raises
    ------
    ValueError
        Before any block is submitted: a bad count, ``bins``, ``backend`` or ``device``, ``backend="torch"``
        without torch, or a device the numpy backend cannot use.

    Examples
    --------
    >>> from sigdist import Network, campaign
    >>> c = campaign(Network.constant(10, 2, 0.2), 1.0, 2000, client="serial", block=500, seed=0)
    >>> c.n_blocks, abs(c.first_moment - 1.0) < 4 * c.first_moment_se    # exact E z = (N sigma_w2 / 2)^L = 1
    (4, True)
    """
    net = as_network(network)
    if net.input_width is None:
        net = Network(net.layers, input_width=net[0].width)
    y0 = check_input_norm(y0, "y0")
    n_networks = check_integer(n_networks, "n_networks")
    block = min(n_networks, 100_000) if block is None else check_integer(block, "block")
    if backend not in ("auto", "torch", "numpy"):
        raise ValueError(f"backend must be 'auto', 'torch' or 'numpy', got {backend!r}")
    if not (isinstance(device, str) and re.fullmatch(r"auto|cpu|cuda(:\d+)?|mps", device)):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}")
    if backend == "auto":
        backend = "torch" if _has_torch() else "numpy"
    elif backend == "torch" and not _has_torch():
        raise ValueError("backend='torch' needs torch, which is not installed (backend='numpy' or 'auto' runs without)")
    if backend == "numpy" and device not in ("auto", "cpu"):
        raise ValueError(f"device={device!r} needs the torch backend (backend='numpy' runs on the CPU)")
    if backend == "numpy" and not all(layer.is_gaussian_iid for layer in net):
        raise ValueError("backend='numpy' simulates i.i.d. Gaussian layers only; install torch for the others")
    if bins is None or (isinstance(bins, (int, np.integer)) and not isinstance(bins, bool)):
        bins = 2 * _DECADES * _PER_DECADE if bins is None else check_integer(bins, "bins")
        edges = _default_edges(net, y0, bins)
    else:
        edges = np.asarray(bins, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or not np.all(np.isfinite(edges)) or edges[0] <= 0 \
                or np.any(np.diff(edges) <= 0):
            raise ValueError("bins must be an int >= 1 or increasing positive finite edges (at least 2)")
    progress = check_progress(progress)
    if not (client is None or client == "serial" or hasattr(client, "submit")):
        raise ValueError(f"client must be None, 'serial' or a distributed.Client, got {client!r}")
    ss = seed_sequence(seed)
    x0 = np.full(net.input_width, math.sqrt(y0 / net.input_width))
    sizes = [min(block, n_networks - start) for start in range(0, n_networks, block)]
    args = (ss.entropy, tuple(ss.spawn_key))
    total = _Total(len(edges) - 1)
    with progress_bar(len(sizes), "campaign", progress, unit="block") as bar:
        if client == "serial":
            for k, count in enumerate(sizes):
                total.add(k, run_block(net, x0, count, *args, k, edges, backend, device))
                bar.update(1)
        else:
            with embedded_client() if client is None else contextlib.nullcontext(client) as c:
                _distributed(c, net, x0, sizes, args, edges, backend, device, total, bar)
    return total.result(n_networks, block, len(sizes), edges, str(ss.entropy))


def _distributed(client, net, x0, sizes, args, edges, backend, device, total, bar):
    futures = {client.submit(run_block, net, x0, count, *args, k, edges, backend, device, pure=False): k
               for k, count in enumerate(sizes)}
    for k, fut in completed(client, futures):
        total.add(k, fut.result())
        bar.update(1)


class _Total:
    """Adds the blocks' reductions in block order, whatever order they finish in (bit-identical totals)."""

    def __init__(self, n_bins):
        self.next, self.pending = 0, {}
        self.sums = np.zeros(4)
        self.counts = np.zeros(n_bins, dtype=np.int64)
        self.zeros = self.below = self.above = self.nonfinite = self.posinf = self.n = 0
        self.backends = set()

    def add(self, k, part):
        self.pending[k] = part
        while self.next in self.pending:
            p = self.pending.pop(self.next)
            self.sums = self.sums + p["power_sums"]
            self.counts += p["counts"]
            self.zeros += p["zeros"]
            self.below += p["below"]
            self.above += p["above"]
            self.nonfinite += p["nonfinite"]
            self.posinf += p["posinf"]
            self.n += p["n"]
            self.backends.add(p["backend"])
            self.next += 1

    def result(self, n_networks, block, n_blocks, edges, seed):
        n = self.n
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            m = self.sums / n
            m1_se = math.sqrt(max(m[1] - m[0] ** 2, 0.0) / n) if np.isfinite(m[1]) else math.inf
            m2_se = math.sqrt(max(m[3] - m[1] ** 2, 0.0) / n) if np.isfinite(m[3]) else math.inf
        if self.nonfinite:  # the moments are over all n networks: an infinite z makes them inf, a NaN z NaN
            value = math.inf if self.posinf == self.nonfinite else math.nan
            m, m1_se, m2_se = np.full(4, value), value, value
            warnings.warn(f"{self.nonfinite} of {self.n} networks gave a non-finite z ({self.posinf} inf, "
                          f"{self.nonfinite - self.posinf} NaN): the moments are {value}", SigdistWarning, stacklevel=3)
        atom = self.zeros / self.n
        return Campaign(n_networks=n_networks, block=block, n_blocks=n_blocks, first_moment=float(m[0]),
                        first_moment_se=m1_se, second_moment=float(m[1]), second_moment_se=m2_se, atom=atom,
                        atom_se=math.sqrt(atom * (1 - atom) / self.n), power_sums=self.sums, bin_edges=edges,
                        counts=self.counts, below=self.below, above=self.above, nonfinite=self.nonfinite,
                        backend=",".join(sorted(self.backends)), seed=seed)
