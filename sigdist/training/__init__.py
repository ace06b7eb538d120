"""Training many seeds of one network at once, to see whether the statistics at initialisation predict training.

Without torch: the data sets (:class:`Dataset`, :func:`load_digits`, :func:`teacher_task`,
:func:`gaussian_mixture`) and the result :class:`TrainingResult`. With the optional extra ``sigdist[mc]``
(torch): :func:`train_population`, which trains ``R`` initialisations of a sigdist network together in one
batched computation (CPU or CUDA), each exactly as ``Network.to_torch(seed)`` builds it, and
:func:`minibatch_indices`, :func:`readout_layer`, :func:`schedule_factor` (what it uses, for a user who
trains the same networks one by one).
"""

from ._result import CurveSummary, TrainingResult
from .data import Dataset, gaussian_mixture, load_digits, teacher_task

__all__ = ["CurveSummary", "Dataset", "TrainingResult", "gaussian_mixture", "load_digits", "minibatch_indices",
           "readout_layer", "schedule_factor", "teacher_task", "train_population"]

_TORCH_NAMES = {"train_population", "minibatch_indices", "readout_layer", "schedule_factor"}


def __getattr__(name):
    if name in _TORCH_NAMES:
        try:
            import torch  # noqa: F401
        except ImportError:
            raise ImportError(f"sigdist.training.{name} needs torch: pip install \"sigdist[mc]\"") from None
        from . import _population

        return getattr(_population, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
