"""One meaning of ``seed``: every kind of seed gives a generator, the same seed the same numbers."""

import numpy as np
import pytest

from sigdist._random import numpy_generator, seed_sequence, spawn, torch_generator


def _kinds():
    kinds = [lambda: 5, lambda: np.random.SeedSequence(5), lambda: np.random.default_rng(5),
             lambda: np.random.PCG64(5)]
    try:
        import torch

        kinds.append(lambda: torch.Generator().manual_seed(5))
    except ImportError:
        pass
    return kinds


@pytest.mark.parametrize("make", _kinds())
def test_every_kind_of_seed_gives_repeatable_numpy_and_torch_streams(make):
    a = numpy_generator(make()).standard_normal(4)
    b = numpy_generator(make()).standard_normal(4)
    assert np.array_equal(a, b)
    torch = pytest.importorskip("torch")
    x = torch.randn(4, generator=torch_generator(make(), "cpu"))
    y = torch.randn(4, generator=torch_generator(make(), "cpu"))
    assert torch.equal(x, y)


def test_an_integer_seed_is_torchs_own_seed_and_a_generator_is_used_as_is():
    torch = pytest.importorskip("torch")
    assert torch.equal(torch.randn(3, generator=torch_generator(7, "cpu")),
                       torch.randn(3, generator=torch.Generator().manual_seed(7)))
    gen = torch.Generator()
    assert torch_generator(gen, "cpu") is gen
    rng = np.random.default_rng(1)
    assert numpy_generator(rng) is rng


def test_spawned_streams_depend_on_the_seed_and_their_index_only():
    first = [np.random.default_rng(s).random() for s in spawn(9, 4)]
    again = [np.random.default_rng(s).random() for s in spawn(9, 8)[:4]]
    assert first == again and len(set(first)) == 4
    assert seed_sequence(9).entropy == 9


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5, True, "3", [1, 2]])
def test_what_is_not_a_seed_is_refused_by_name(seed):
    with pytest.raises(ValueError, match="seed must be an integer in \\[0, 2\\*\\*64\\)"):
        numpy_generator(seed)
