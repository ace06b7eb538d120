r"""Data sets that ship with an installed package: no download at run time.

* :func:`load_digits`: scikit-learn's handwritten digits (1797 images of 8x8 pixels, 10 classes),
  which ship inside scikit-learn itself, split into train and test with a seeded permutation.
* :func:`teacher_task`: inputs ``x ~ N(0, I)``, labels the argmax of a random relu teacher network's
  outputs (plus Gaussian noise): difficulty grows with the noise (and with the teacher's depth).
* :func:`gaussian_mixture`: one isotropic Gaussian per class, class means at pairwise distance
  ``separation``; the Bayes error is known in closed form for two classes, ``Phi(-separation / 2)``.

A user's own arrays or tensors become a :class:`Dataset` directly. Every loader is numpy only (float64);
:func:`sigdist.training.train_population` moves the data to its device and dtype.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._checks import check_finite, check_integer, check_nonnegative
from .._random import numpy_generator

__all__ = ["Dataset", "gaussian_mixture", "load_digits", "teacher_task"]


def _is_torch_tensor(value):
    return type(value).__module__.startswith("torch") and type(value).__name__ in ("Tensor", "Parameter")


def _as_numpy(value, name, copy):
    if _is_torch_tensor(value):
        value = value.detach().cpu().numpy()
    try:
        return np.array(value, copy=copy) if copy else np.asarray(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers, got {type(value).__name__}") from None


def _check_features(x, name, copy):
    x = _as_numpy(x, name, copy)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (examples, features), got shape {x.shape}")
    if x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"{name} must hold at least one example with at least one feature, got shape {x.shape}")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)) or x.dtype == bool:
        raise ValueError(f"{name} must hold real numbers, got dtype {x.dtype}")
    x = x.astype(np.float64, copy=False)
    if not np.all(np.isfinite(x)):
        bad = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(f"{name} must hold finite numbers (no NaN or inf), got {x[tuple(bad)]} at {tuple(bad)}")
    return x


def _check_labels(y, name, copy):
    y = _as_numpy(y, name, copy)
    if y.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of integer class labels, got shape {y.shape}")
    if np.issubdtype(y.dtype, np.floating):
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError(f"{name} must hold integer class labels, got non-integer values")
    elif not np.issubdtype(y.dtype, np.integer) or y.dtype == bool:
        raise ValueError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    return y.astype(np.int64, copy=False)


@dataclass(frozen=True, eq=False)
class Dataset:
    """A classification data set: features and integer labels, split into train and test.

    Parameters
    ----------
    x_train, x_test : array_like or torch.Tensor, shapes (n_train, d) and (n_test, d)
        Features, finite real numbers (stored as float64 numpy arrays).
    y_train, y_test : array_like or torch.Tensor, shapes (n_train,) and (n_test,)
        Class labels, integers in ``[0, n_classes)``.
    n_classes : int, optional
        Number of classes (``>= 2``); default ``1 + the largest label``.
    name : str, optional
        A label for tables and figures.

    Raises
    ------
    ValueError
        For features that are not 2-D or not finite, labels that are not 1-D integers or out of
        ``[0, n_classes)``, lengths that differ between features and labels, or train and test with
        different numbers of features. The message names the argument.

    Examples
    --------
    >>> import numpy as np
    >>> from sigdist.training import Dataset
    >>> data = Dataset(np.zeros((4, 3)), [0, 1, 0, 1], np.ones((2, 3)), [1, 0])
    >>> data.input_width, data.n_classes, data.n_train, data.n_test
    (3, 2, 4, 2)
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int | None = None
    name: str = ""
    _copy: bool = field(default=True, repr=False)

    def __post_init__(self):
        copy = self._copy
        x_train = _check_features(self.x_train, "x_train", copy)
        x_test = _check_features(self.x_test, "x_test", copy)
        y_train = _check_labels(self.y_train, "y_train", copy)
        y_test = _check_labels(self.y_test, "y_test", copy)
        if x_test.shape[1] != x_train.shape[1]:
            raise ValueError(f"x_test must have the {x_train.shape[1]} features of x_train, got {x_test.shape[1]}")
        for xs, ys, split in ((x_train, y_train, "train"), (x_test, y_test, "test")):
            if xs.shape[0] != ys.shape[0]:
                raise ValueError(f"y_{split} must have one label per row of x_{split} ({xs.shape[0]}), "
                                 f"got {ys.shape[0]}")
        top = int(max(y_train.max(), y_test.max()))
        if self.n_classes is None:
            n_classes = max(top + 1, 2)
        else:
            n_classes = check_integer(self.n_classes, "n_classes", 2)
        for ys, split in ((y_train, "y_train"), (y_test, "y_test")):
            if ys.min() < 0 or ys.max() >= n_classes:
                bad = ys[(ys < 0) | (ys >= n_classes)][0]
                raise ValueError(f"{split} must hold labels in [0, n_classes) = [0, {n_classes}), got {bad}")
        if not isinstance(self.name, str):
            raise ValueError(f"name must be a string, got {self.name!r}")
        for key, value in (("x_train", x_train), ("y_train", y_train), ("x_test", x_test), ("y_test", y_test),
                           ("n_classes", n_classes)):
            object.__setattr__(self, key, value)
        if copy:  # the data set owns its arrays: nobody can change them behind its back
            for value in (x_train, y_train, x_test, y_test):
                value.flags.writeable = False

    @classmethod
    def from_arrays(cls, x_train, y_train, x_test, y_test, n_classes=None, name=""):
        """A Dataset that may share memory with the given arrays (no copy where they are float64 / int64)."""
        return cls(x_train, y_train, x_test, y_test, n_classes, name, _copy=False)

    @property
    def input_width(self) -> int:
        """Number of features ``N_0`` (the network's ``input_width`` must equal it)."""
        return int(self.x_train.shape[1])

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.x_test.shape[0])

    def __repr__(self):
        name = f"{self.name!r}, " if self.name else ""
        return (f"Dataset({name}n_train={self.n_train}, n_test={self.n_test}, input_width={self.input_width}, "
                f"n_classes={self.n_classes})")


def _check_fraction(value, name):
    v = check_finite(value, name, " in (0, 1)")
    if not 0 < v < 1:
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
    return v


def _standardize(x_train, x_test):
    """Each feature centred and scaled by the train split's mean and std (constant features only centred)."""
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (x_train - mean) / std, (x_test - mean) / std


def load_digits(*, test_fraction=0.25, seed=0, standardize=True) -> Dataset:
    """scikit-learn's handwritten digits: 1797 images of 8x8 pixels (64 features), 10 classes.

    The data ship inside scikit-learn (``sklearn.datasets.load_digits``): nothing is downloaded.

    Parameters
    ----------
    test_fraction : float, optional
        Share of the 1797 images held out for testing, in ``(0, 1)`` (default 0.25: 1348 train, 449 test,
        ``n_test = round(1797 * test_fraction)``).
    seed : int, SeedSequence or Generator, optional
        Seed of the random permutation that splits the images (default 0).
    standardize : bool, optional
        Centre each pixel and divide it by its standard deviation over the training split (default True;
        pixels that are constant on the training split are only centred). False keeps the raw grey levels
        0..16.

    Returns
    -------
    Dataset
        ``name="digits"``.

    Examples
    --------
    >>> from sigdist.training import load_digits
    >>> data = load_digits()
    >>> data.n_train, data.n_test, data.input_width, data.n_classes
    (1348, 449, 64, 10)
    """
    from sklearn.datasets import load_digits as sklearn_digits

    test_fraction = _check_fraction(test_fraction, "test_fraction")
    if not isinstance(standardize, (bool, np.bool_)):
        raise ValueError(f"standardize must be True or False, got {standardize!r}")
    bunch = sklearn_digits()
    x, y = np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)
    n_test = int(round(len(y) * test_fraction))
    if not 1 <= n_test < len(y):
        raise ValueError(f"test_fraction must leave at least one image in each split, got {test_fraction}")
    order = numpy_generator(seed).permutation(len(y))
    test, train = order[:n_test], order[n_test:]
    x_train, x_test = x[train], x[test]
    if standardize:
        x_train, x_test = _standardize(x_train, x_test)
    return Dataset(x_train, y[train], x_test, y[test], n_classes=10, name="digits")


def _check_sizes(n_train, n_test, n_classes, input_width):
    return (check_integer(n_train, "n_train"), check_integer(n_test, "n_test"),
            check_integer(n_classes, "n_classes", 2), check_integer(input_width, "input_width"))


def teacher_task(input_width, *, n_train=2000, n_test=1000, n_classes=2, depth=2, width=64, noise=0.0,
                 seed=0) -> Dataset:
    r"""Labels from a random teacher network: a synthetic task whose difficulty is a parameter.

    Inputs are i.i.d. ``x ~ N(0, I_d)`` (``d = input_width``). The teacher is a relu network of ``depth``
    hidden layers of ``width`` units with He weights (``N(0, 2 / fan_in)``, no biases) and a linear
    readout to ``n_classes`` outputs ``f(x)`` with weights ``N(0, 1 / width)``. The outputs are centred
    by their mean over all drawn inputs (train and test), so that no class dominates because the deep
    teacher maps every input to nearly the same direction, and the label is

    .. math:: y = \arg\max_k \big(f_k(x) - \bar f_k + \text{noise}\cdot s\, \xi_k\big),
              \qquad \xi_k \sim N(0, 1),

    with ``s`` the root mean square of the centred outputs. ``noise = 0`` gives a deterministic task a
    student of the teacher's shape can fit exactly; growing ``noise`` lowers the best attainable test
    accuracy towards chance ``1 / n_classes``. Deeper teachers give less linear decision boundaries.

    Parameters
    ----------
    input_width : int
        Number of features ``d >= 1``.
    n_train, n_test : int, optional
        Sizes of the two splits (``>= 1``).
    n_classes : int, optional
        ``>= 2``.
    depth : int, optional
        Hidden layers of the teacher (``>= 0``; 0 is a linear teacher).
    width : int, optional
        Units per hidden layer (``>= 1``).
    noise : float, optional
        Label noise, in units of the outputs' spread (``>= 0``).
    seed : int, SeedSequence or Generator, optional
        One seed for the teacher, the inputs and the noise.

    Returns
    -------
    Dataset
        ``name="teacher(depth=..., noise=...)"``.

    Examples
    --------
    >>> from sigdist.training import teacher_task
    >>> data = teacher_task(10, n_train=100, n_test=50, n_classes=3)
    >>> data.x_train.shape, data.n_classes
    ((100, 10), 3)
    """
    n_train, n_test, n_classes, input_width = _check_sizes(n_train, n_test, n_classes, input_width)
    depth = check_integer(depth, "depth", 0)
    width = check_integer(width, "width")
    noise = check_nonnegative(noise, "noise")
    rng = numpy_generator(seed)
    # the teacher first: the same seed gives the same teacher whatever the sizes of the splits
    fan_in, weights = input_width, []
    for _ in range(depth):
        weights.append(rng.standard_normal((fan_in, width)) * math.sqrt(2.0 / fan_in))
        fan_in = width
    readout = rng.standard_normal((fan_in, n_classes)) * math.sqrt(1.0 / fan_in)
    x = rng.standard_normal((n_train + n_test, input_width))
    h = x
    for w in weights:
        h = np.maximum(h @ w, 0.0)
    out = h @ readout
    out -= out.mean(axis=0)
    spread = math.sqrt(float(np.mean(out * out))) or 1.0
    out += noise * spread * rng.standard_normal(out.shape)
    y = np.argmax(out, axis=1)
    return Dataset(x[:n_train], y[:n_train], x[n_train:], y[n_train:], n_classes=n_classes,
                   name=f"teacher(depth={depth}, noise={noise:g})")


def gaussian_mixture(input_width, *, n_classes=2, separation=2.0, n_train=2000, n_test=1000, seed=0) -> Dataset:
    r"""One isotropic Gaussian per class; the classes' distance is the difficulty.

    Class ``k`` (drawn uniformly) has inputs ``x = mu_k + xi``, ``xi ~ N(0, I_d)``, with means
    ``mu_k = (separation / sqrt 2) Q e_k``: the vertices of a regular simplex at pairwise distance
    ``separation``, turned by a random orthogonal ``Q`` (seeded), so that no feature is special. The Bayes
    classifier is the nearest mean; for two classes its error is

    .. math:: P(\text{error}) = \Phi(-\text{separation} / 2),

    so accuracy rises from chance (``separation = 0``) towards 1.

    Parameters
    ----------
    input_width : int
        Number of features ``d``, ``>= n_classes`` (the simplex needs ``n_classes`` dimensions).
    n_classes : int, optional
        ``>= 2``.
    separation : float, optional
        Distance between class means in units of the noise's standard deviation (``>= 0``).
    n_train, n_test : int, optional
        Sizes of the splits (``>= 1``).
    seed : int, SeedSequence or Generator, optional

    Returns
    -------
    Dataset
        ``name="gaussian_mixture(separation=...)"``.

    Examples
    --------
    >>> from sigdist.training import gaussian_mixture
    >>> data = gaussian_mixture(5, n_classes=3, n_train=60, n_test=30)
    >>> data.x_test.shape, data.n_classes
    ((30, 5), 3)
    """
    n_train, n_test, n_classes, input_width = _check_sizes(n_train, n_test, n_classes, input_width)
    if input_width < n_classes:
        raise ValueError(f"input_width must be >= n_classes ({n_classes}) for the class means' simplex, "
                         f"got {input_width}")
    separation = check_nonnegative(separation, "separation")
    rng = numpy_generator(seed)
    q, r = np.linalg.qr(rng.standard_normal((input_width, input_width)))
    q *= np.sign(np.diag(r))
    means = (separation / math.sqrt(2.0)) * q[:, :n_classes].T  # (n_classes, d), pairwise distance `separation`
    y = rng.integers(0, n_classes, size=n_train + n_test)
    x = means[y] + rng.standard_normal((n_train + n_test, input_width))
    return Dataset(x[:n_train], y[:n_train], x[n_train:], y[n_train:], n_classes=n_classes,
                   name=f"gaussian_mixture(separation={separation:g})")

