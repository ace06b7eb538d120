"""The data sets of sigdist.training (numpy only) and the learning-curve result (no torch needed)."""

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

from sigdist.training import Dataset, TrainingResult, gaussian_mixture, load_digits, teacher_task


# -- Dataset ------------------------------------------------------------------------------------------

def _arrays(n=6, d=3):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, d)), np.arange(n) % 2, rng.standard_normal((4, d)), np.array([0, 1, 1, 0])


def test_dataset_infers_classes_and_keeps_read_only_float64_copies():
    x, y, xt, yt = _arrays()
    data = Dataset(x, y, xt, yt, name="toy")
    assert (data.n_train, data.n_test, data.input_width, data.n_classes) == (6, 4, 3, 2)
    assert data.x_train.dtype == np.float64 and data.y_train.dtype == np.int64
    assert not np.shares_memory(data.x_train, x)
    with pytest.raises(ValueError):
        data.x_train[0, 0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.x_train = x
    assert "toy" in repr(data)


def test_from_arrays_may_share_memory_and_torch_tensors_are_accepted():
    x, y, xt, yt = _arrays()
    y = y.astype(np.int64)
    data = Dataset.from_arrays(x, y, xt, yt, n_classes=5)
    assert np.shares_memory(data.x_train, x) and data.n_classes == 5
    torch = pytest.importorskip("torch")
    tdata = Dataset(torch.tensor(x), torch.tensor(y), torch.tensor(xt), torch.tensor(yt))
    np.testing.assert_array_equal(tdata.x_train, x)


@pytest.mark.parametrize("change, match", [
    (dict(x_train=np.zeros(6)), "x_train must be a 2-D array"),
    (dict(x_test=np.zeros((4, 2))), "x_test must have the 3 features of x_train"),
    (dict(y_train=np.zeros(5, dtype=int)), r"y_train must have one label per row of x_train \(6\)"),
    (dict(y_test=np.zeros((4, 1), dtype=int)), "y_test must be a 1-D array"),
    (dict(y_train=np.full(6, 0.5)), "y_train must hold integer class labels"),
    (dict(y_test=np.array([0, 1, 2, 0])), r"y_test must hold labels in \[0, n_classes\) = \[0, 2\), got 2"),
    (dict(y_train=np.array([0, 1, -1, 0, 1, 0])), "y_train must hold labels in"),
    (dict(x_train=np.full((6, 3), np.nan)), "x_train must hold finite numbers"),
    (dict(x_test=np.array([[0, 0, np.inf]] * 4)), "x_test must hold finite numbers"),
    (dict(x_train=np.array([["a"] * 3] * 6)), "x_train must hold real numbers"),
    (dict(n_classes=1), "n_classes must be an integer >= 2"),
    (dict(name=3), "name must be a string"),
])
def test_bad_data_are_refused_with_the_argument_named(change, match):
    x, y, xt, yt = _arrays()
    kwargs = dict(x_train=x, y_train=y, x_test=xt, y_test=yt, n_classes=2 if "y_test" in change else None)
    kwargs.update(change)
    with pytest.raises(ValueError, match=match):
        Dataset(**kwargs)


# -- digits -------------------------------------------------------------------------------------------

def test_digits_ship_with_scikit_learn_and_split_by_seed():
    data = load_digits()
    assert (data.n_train + data.n_test, data.input_width, data.n_classes) == (1797, 64, 10)
    assert data.n_test == round(1797 * 0.25)
    assert set(np.unique(data.y_train)) == set(range(10)) == set(np.unique(data.y_test))
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0.0, atol=1e-12)
    std = data.x_train.std(axis=0)
    assert np.all((np.abs(std - 1) < 1e-12) | (std == 0))
    again = load_digits()
    np.testing.assert_array_equal(again.x_test, data.x_test)
    other = load_digits(seed=1)
    assert not np.array_equal(other.y_test, data.y_test)
    raw = load_digits(standardize=False, test_fraction=0.5)
    assert raw.x_train.min() == 0 and raw.x_train.max() == 16 and raw.n_test == round(1797 * 0.5)
    # the splits partition the 1797 images: every grey-level sum is accounted for once
    from sklearn.datasets import load_digits as sklearn_digits
    assert raw.x_train.sum() + raw.x_test.sum() == sklearn_digits().data.sum()


@pytest.mark.parametrize("kwargs, match", [(dict(test_fraction=0.0), r"test_fraction must be a number in \(0, 1\)"),
                                           (dict(test_fraction=1.0), "test_fraction"),
                                           (dict(test_fraction=1e-6), "at least one image"),
                                           (dict(standardize="yes"), "standardize must be True or False"),
                                           (dict(seed=-2), "seed must be")])
def test_digits_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_digits(**kwargs)


# -- synthetic tasks ----------------------------------------------------------------------------------

def test_teacher_task_is_reproducible_and_balanced():
    a = teacher_task(10, n_train=500, n_test=200, n_classes=3, depth=3, seed=7)
    b = teacher_task(10, n_train=500, n_test=200, n_classes=3, depth=3, seed=7)
    c = teacher_task(10, n_train=500, n_test=200, n_classes=3, depth=3, seed=8)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert not np.array_equal(a.x_train, c.x_train)
    assert a.x_train.shape == (500, 10) and a.x_test.shape == (200, 10) and a.n_classes == 3
    counts = np.bincount(np.concatenate([a.y_train, a.y_test]), minlength=3)
    assert counts.min() > 0.15 * 700  # centring the outputs keeps every class present


def test_teacher_label_noise_lowers_agreement_with_the_noiseless_teacher():
    # same seed: same teacher and inputs, the noise is drawn last
    n = 4000
    clean = teacher_task(12, n_train=n, n_test=1, depth=2, seed=3)
    agreement = [np.mean(teacher_task(12, n_train=n, n_test=1, depth=2, noise=s, seed=3).y_train == clean.y_train)
                 for s in (0.0, 0.25, 1.0, 4.0)]
    se = math.sqrt(0.25 / n)
    assert agreement[0] == 1.0
    assert all(a - b > 4 * se for a, b in zip(agreement, agreement[1:]))
    assert agreement[-1] < 0.7  # near chance (1/2) when the noise dominates


def test_deeper_teachers_are_less_linear():
    from sklearn.linear_model import LogisticRegression

    def linear_accuracy(depth, seed):
        data = teacher_task(10, n_train=2000, n_test=1000, depth=depth, seed=seed)
        return LogisticRegression(max_iter=2000).fit(data.x_train, data.y_train).score(data.x_test, data.y_test)

    assert min(linear_accuracy(0, s) for s in range(3)) > 0.97  # a linear teacher is linearly separable
    assert np.mean([linear_accuracy(4, s) for s in range(3)]) < 0.85


def test_gaussian_mixture_nearest_mean_error_is_the_bayes_error():
    n = 20000
    errors = []
    for separation in (1.0, 2.0, 3.0):
        data = gaussian_mixture(4, separation=separation, n_train=n, n_test=n, seed=5)
        means = np.stack([data.x_train[data.y_train == k].mean(axis=0) for k in range(2)])
        assert np.linalg.norm(means[0] - means[1]) == pytest.approx(separation, abs=0.06)
        predicted = np.argmin(((data.x_test[:, None, :] - means) ** 2).sum(-1), axis=1)
        error = np.mean(predicted != data.y_test)
        bayes = stats.norm.cdf(-separation / 2)
        assert abs(error - bayes) < 4 * math.sqrt(bayes * (1 - bayes) / n)
        errors.append(error)
    assert errors[0] > errors[1] > errors[2]


def test_gaussian_mixture_shapes_seed_and_bad_input():
    a = gaussian_mixture(6, n_classes=4, n_train=100, n_test=40, seed=2)
    assert a.x_train.shape == (100, 6) and a.n_classes == 4
    np.testing.assert_array_equal(a.x_test, gaussian_mixture(6, n_classes=4, n_train=100, n_test=40, seed=2).x_test)
    with pytest.raises(ValueError, match=r"input_width must be >= n_classes \(4\)"):
        gaussian_mixture(3, n_classes=4)
    with pytest.raises(ValueError, match="separation must be a finite number >= 0"):
        gaussian_mixture(3, separation=-1)
    with pytest.raises(ValueError, match="n_train must be an integer >= 1"):
        teacher_task(3, n_train=0)
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        teacher_task(3, noise=float("nan"))
    with pytest.raises(ValueError, match="depth must be an integer >= 0"):
        teacher_task(3, depth=-1)


# -- TrainingResult -----------------------------------------------------------------------------------

def _result(loss=None):
    rng = np.random.default_rng(1)
    loss = rng.uniform(0.1, 2.0, (5, 4)) if loss is None else loss
    acc = rng.uniform(0, 1, (5, 4))
    return TrainingResult(np.array([0, 10, 20, 30]), loss, acc, loss + 0.1, acc * 0.9, np.zeros(5, bool),
                          np.full(5, -1), np.arange(5))


def test_summary_is_the_student_t_interval_across_seeds():
    result = _result()
    s = result.summary(level=0.9)["test_accuracy"]
    values = result.test_accuracy
    for t in range(4):
        low, high = stats.t.interval(0.9, 4, loc=values[:, t].mean(), scale=stats.sem(values[:, t]))
        assert (s.low[t], s.high[t]) == pytest.approx((low, high), rel=1e-12)
    assert s.n.tolist() == [5] * 4


def test_summary_leaves_out_infinite_losses_and_says_how_many_seeds_remain():
    loss = np.ones((3, 2))
    loss[0, 1] = loss[1, 1] = math.inf
    s = _result(loss).summary()["loss"]
    assert s.n.tolist() == [3, 1]
    assert s.mean.tolist() == [1.0, 1.0]
    assert s.low[1] == -math.inf and s.high[1] == math.inf
    with pytest.raises(ValueError, match=r"level must be a number in \(0, 1\)"):
        _result().summary(level=1.0)


def test_steps_to_loss_and_final_values():
    loss = np.array([[2.0, 1.0, 0.4, 0.3], [2.0, 2.0, 2.0, 2.0], [0.1, 0.1, 0.1, 0.1]])
    result = TrainingResult(np.array([0, 5, 10, 15]), loss, loss, loss, loss, np.zeros(3, bool), np.full(3, -1),
                            np.arange(3))
    assert result.steps_to_loss(0.5).tolist() == [10.0, math.inf, 0.0]
    assert result.final("loss").tolist() == [0.3, 2.0, 0.1]
    assert result.final_summary("loss").n == 3
    with pytest.raises(ValueError, match="quantity must be one of"):
        result.final("accuracy")
    with pytest.raises(ValueError, match="threshold must be a finite number"):
        result.steps_to_loss(float("nan"))


def test_training_result_labels_seeds_and_steps_in_xarray():
    ds = _result().to_xarray()
    assert ds["loss"].dims == ("seed", "step")
    assert ds["step"].values.tolist() == [0, 10, 20, 30] and ds["seed"].values.tolist() == list(range(5))
    assert ds["diverged"].dims == ("seed",)
