"""Validators of the package's public arguments: each raises ``ValueError`` naming the parameter and its
valid range before any work is done, and returns the value in its canonical type."""

from __future__ import annotations

import math
import numbers
import os
import tempfile

import numpy as np

_MAX_WIDTH = 10**8  # beyond this no computation here fits in memory


def check_width(width, name="width"):
    if isinstance(width, bool):
        raise ValueError(f"{name} must be an integer >= 1, got {width!r}")
    if not isinstance(width, numbers.Integral):
        if isinstance(width, numbers.Real) and float(width).is_integer():
            width = int(width)
        else:
            raise ValueError(f"{name} must be an integer >= 1, got {width!r}")
    width = int(width)
    if not 1 <= width <= _MAX_WIDTH:
        raise ValueError(f"{name} must be an integer in [1, {_MAX_WIDTH}], got {width}")
    return width


def check_finite(value, name, what=""):
    """``value`` as a finite float (bools, strings and non-numbers refused), else a ``ValueError`` saying
    ``"<name> must be a finite number<what>"``."""
    if isinstance(value, (bool, str, bytes)):
        raise ValueError(f"{name} must be a finite number{what}, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number{what}, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number{what}, got {value!r}")
    return v


def check_positive(value, name):
    v = check_finite(value, name, " > 0")
    if v <= 0.0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def check_nonnegative(value, name):
    v = check_finite(value, name, " >= 0")
    if v < 0.0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


def check_integer(value, name, minimum=1):
    """Validate an integer count ``>= minimum`` (bools and non-integers refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_tol(tol, name="tol"):
    """Validate an accuracy target in ``[1e-15, 1)``: below 1e-15 no float64 computation can deliver it."""
    if isinstance(tol, (bool, str)) or not isinstance(tol, numbers.Real) or not (1e-15 <= tol < 1):
        raise ValueError(f"{name} must be a number in [1e-15, 1), got {tol!r}")
    return float(tol)


def check_input_norm(y0, name="y0"):
    """Validate a squared input norm: finite and ``>= 0``."""
    return check_nonnegative(y0, name)


def check_bool(value, name):
    """Validate a flag: ``True`` or ``False`` (numpy bools too); strings such as ``'no'`` are not flags."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


_SEED_BOUND = 2**64  # numpy's SeedSequence takes more, torch.Generator.manual_seed not


def check_seed(seed, name="seed"):
    """Validate a seed: None, an integer in ``[0, 2**64)``, a ``numpy.random.Generator``, ``BitGenerator``
    or ``SeedSequence``, or a ``torch.Generator`` (generators are returned as they are)."""
    if seed is None:
        return None
    if isinstance(seed, (np.random.Generator, np.random.BitGenerator, np.random.SeedSequence)):
        return seed
    if type(seed).__module__.startswith("torch") and type(seed).__name__ == "Generator":
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (numbers.Integral, np.integer)) or not 0 <= seed < _SEED_BOUND:
        raise ValueError(f"{name} must be an integer in [0, 2**64), a numpy SeedSequence or Generator, "
                         f"a torch.Generator or None, got {seed!r}")
    return int(seed)


def check_output_path(path, name):
    """Validate a file that will be written (a checkpoint, a figure) before any work is done.

    The file's folder must exist and take a new file, and an existing file must be writable: a path that
    fails only after a long run loses the run. Returns the path as a ``str``.
    """
    try:
        path = os.fsdecode(os.fspath(path))
    except TypeError:
        raise ValueError(f"{name} must be a file path, got {path!r}") from None
    if not path or os.path.isdir(path):
        raise ValueError(f"{name} must be a file path (not a folder), got {path!r}")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
        if os.path.exists(path):
            with open(path, "ab"):
                pass
    except OSError as err:
        raise ValueError(f"{name} must be a writable file path, got {path!r} ({err.strerror or err})") from None
    return path


def check_points(x, name):
    """An array of float64 points (a number or an array of numbers; NaN is kept for the caller to pass on)."""
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or an array of numbers, got {x!r}") from None


def check_probability(q, name="q"):
    """An array of probabilities in ``[0, 1]`` (NaN refused)."""
    q = check_points(q, name)
    bad = np.isnan(q) | (q < 0) | (q > 1)
    if np.any(bad):
        raise ValueError(f"{name} must lie in [0, 1], got {q[bad].flat[0]!r}")
    return q


def check_order(order, name="order"):
    """A moment order: a finite real number ``>= 0``."""
    if isinstance(order, bool) or not isinstance(order, (numbers.Real, np.integer, np.floating)) \
            or not math.isfinite(order) or order < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {order!r}")
    return order
