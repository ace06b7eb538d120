r"""The learning curves of a population of trained networks (numpy only: readable without torch)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .._checks import check_finite
from .._result import Result

__all__ = ["CurveSummary", "TrainingResult"]

CURVES = ("loss", "train_accuracy", "test_loss", "test_accuracy")


class CurveSummary(NamedTuple):
    """Mean and confidence interval of one learning curve across seeds, one entry per evaluation step."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n: np.ndarray


@dataclass(frozen=True, repr=False, eq=False)
class TrainingResult(Result):
    """Learning curves of ``R`` networks (seeds) trained together by :func:`train_population`.

    Attributes
    ----------
    steps : ndarray of int, shape (T,)
        The optimisation steps at which the curves were evaluated (0 is the initialisation).
    loss, test_loss : ndarray, shape (R, T)
        Mean cross-entropy over the whole train / test split. ``+inf`` where the evaluation overflowed
        (a network that diverged); never NaN.
    train_accuracy, test_accuracy : ndarray, shape (R, T)
        Share of the split classified correctly (argmax of the outputs; non-finite outputs count as wrong).
    diverged : ndarray of bool, shape (R,)
        True for a seed whose mini-batch loss turned non-finite at step ``t``; its parameters were frozen as
        they were before step ``t``'s update (finite loss, not necessarily finite parameters: an update from an
        overflowing gradient comes first) and later evaluations use them.
    diverged_step : ndarray of int, shape (R,)
        The step whose mini-batch loss was non-finite (-1 for seeds that never diverged).
    seeds : ndarray of int, shape (R,)
        ``Network.to_torch(seed=seeds[r])`` is network ``r``'s initialisation.
    completed : bool
        False when training was interrupted (Ctrl-C): the curves stop at the last evaluation done.
    network, data, optimizer, lr, batch_size, device, dtype : str, float or int
        The settings, for tables (the network and data set as their ``repr``).
    """

    steps: np.ndarray
    loss: np.ndarray
    train_accuracy: np.ndarray
    test_loss: np.ndarray
    test_accuracy: np.ndarray
    diverged: np.ndarray
    diverged_step: np.ndarray
    seeds: np.ndarray
    completed: bool = True
    network: str = ""
    data: str = ""
    optimizer: str = "sgd"
    lr: float = 0.0
    batch_size: int = 0
    device: str = "cpu"
    dtype: str = "float64"

    _dims = {"loss": ("seed", "step"), "train_accuracy": ("seed", "step"), "test_loss": ("seed", "step"),
             "test_accuracy": ("seed", "step"), "diverged": ("seed",), "diverged_step": ("seed",)}
    _coords = {"seed": "seeds", "step": "steps"}

    @property
    def n_seeds(self) -> int:
        return int(self.loss.shape[0])

    def _curve(self, quantity):
        if quantity not in CURVES:
            raise ValueError(f"quantity must be one of {', '.join(CURVES)}, got {quantity!r}")
        return getattr(self, quantity)

    def summary(self, level=0.95) -> dict:
        r"""Mean and Student-t confidence interval across seeds of every curve, at every evaluation step.

        For the ``n`` seeds with a finite value at a step, ``mean +- t_{(1+level)/2, n-1} s / sqrt(n)``
        with ``s`` the sample standard deviation: an interval for the mean over initialisations of the
        network (the seeds are independent draws). Seeds whose loss is ``+inf`` at that step (diverged)
        are left out of the loss statistics and counted in ``n`` no more; accuracies are always finite.
        With ``n = 1`` the interval is ``(-inf, inf)``; with ``n = 0`` every entry is NaN.

        Parameters
        ----------
        level : float, optional
            Confidence level in ``(0, 1)`` (default 0.95).

        Returns
        -------
        dict
            ``{quantity: CurveSummary(mean, low, high, n)}`` for ``loss``, ``train_accuracy``,
            ``test_loss``, ``test_accuracy``; each array has shape ``(T,)``.
        """
        from scipy import stats

        level = check_finite(level, "level", " in (0, 1)")
        if not 0 < level < 1:
            raise ValueError(f"level must be a number in (0, 1), got {level!r}")
        out = {}
        for quantity in CURVES:
            values = self._curve(quantity)
            finite = np.isfinite(values)
            n = finite.sum(axis=0)
            safe = np.where(finite, values, 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = safe.sum(axis=0) / n
                var = (np.where(finite, values - mean, 0.0) ** 2).sum(axis=0) / (n - 1)
                half = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * np.sqrt(var / n)
            half = np.where(n == 1, math.inf, half)
            mean = np.where(n == 0, np.nan, mean)
            half = np.where(n == 0, np.nan, half)
            out[quantity] = CurveSummary(mean, mean - half, mean + half, n)
        return out

    def steps_to_loss(self, threshold) -> np.ndarray:
        """The first evaluation step at which each seed's training loss is below ``threshold``.

        Parameters
        ----------
        threshold : float
            A loss level fixed before the run (finite).

        Returns
        -------
        ndarray of float, shape (R,)
            The step, ``inf`` for a seed that never got there (within the steps evaluated).
        """
        threshold = check_finite(threshold, "threshold")
        below = self.loss < threshold
        first = np.argmax(below, axis=1)
        return np.where(below.any(axis=1), self.steps[first].astype(np.float64), math.inf)

    def final(self, quantity="test_accuracy") -> np.ndarray:
        """The last evaluation of a curve for every seed, shape ``(R,)``.

        ``quantity`` is one of ``"loss"``, ``"train_accuracy"``, ``"test_loss"``, ``"test_accuracy"``.
        """
        return self._curve(quantity)[:, -1].copy()

    def final_summary(self, quantity="test_accuracy", level=0.95) -> CurveSummary:
        """:meth:`summary` of one curve at the last evaluation step (scalars in a :class:`CurveSummary`)."""
        self._curve(quantity)
        s = self.summary(level)[quantity]
        return CurveSummary(*(float(a[-1]) if a.dtype.kind == "f" else int(a[-1]) for a in s))
