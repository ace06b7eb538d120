r"""Streaming batch means: the long-run mean of many parallel Markov chains and its standard error.

Each of ``n_series`` chains feeds one value per recorded step. Consecutive values are summed into blocks
of ``block_len``; the standard error of the pooled mean is the spread of the block means over all chains
and blocks divided by the square root of their number, valid once a block is much longer than the
integrated autocorrelation time :math:`\tau_{int}`, which is estimated alongside:
:math:`\mathrm{Var}(\text{block mean}) \approx 2 \tau_{int} \sigma^2 / \text{block\_len}`
(Geyer 1992; Flegal & Jones 2010). Memory is ``O(n_series * n_blocks)`` for a run of any length.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["BatchMeans"]


class BatchMeans:
    """Streaming batch means for ``n_series`` parallel series (memory O(n_series * max_blocks)).

    Blocks of ``block_len`` consecutive recorded values per chain; when ``2 * n_blocks`` blocks are
    complete, neighbours merge and ``block_len`` doubles, so the number of blocks stays in
    ``[n_blocks, 2 n_blocks)`` however long the run.
    """

    def __init__(self, n_series, n_blocks=32):
        self.n_blocks = n_blocks
        self.block_len = 1
        self.blocks = np.zeros((n_series, 0))  # complete block sums
        self.partial = np.zeros(n_series)
        self.partial_count = 0
        self.count = 0
        self.total = np.zeros(n_series)
        self.total_sq = np.zeros(n_series)

    def add(self, values):
        """``values``: shape (n_steps, n_series).

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

    def copy(self):
        """An independent copy (the chain's committed snapshot)."""
        return BatchMeans.from_state(self.state("x"), "x")

    def state(self, prefix):
        """The accumulators as arrays named ``<prefix>_...`` (for a checkpoint file)."""
        return {f"{prefix}_blocks": self.blocks, f"{prefix}_partial": self.partial,
                f"{prefix}_total": self.total, f"{prefix}_total_sq": self.total_sq,
                f"{prefix}_ints": np.array([self.n_blocks, self.block_len, self.partial_count, self.count])}

    @classmethod
    def from_state(cls, data, prefix):
        """The accumulator :meth:`state` wrote (checked by the caller)."""
        n_blocks, block_len, partial_count, count = (int(v) for v in data[f"{prefix}_ints"])
        self = cls(data[f"{prefix}_total"].shape[0], n_blocks)
        self.block_len, self.partial_count, self.count = block_len, partial_count, count
        self.blocks = np.array(data[f"{prefix}_blocks"])
        self.partial = np.array(data[f"{prefix}_partial"])
        self.total = np.array(data[f"{prefix}_total"])
        self.total_sq = np.array(data[f"{prefix}_total_sq"])
        return self
