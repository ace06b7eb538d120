"""Seeds: one meaning of ``seed`` across sigdist.

Every random routine takes ``seed`` as None, an integer in ``[0, 2**64)``, a
``numpy.random.SeedSequence``, a ``numpy.random.Generator`` (or ``BitGenerator``), or a
``torch.Generator``, and turns it into the generator it needs here. The same seed gives the
same numbers on the same device, whatever the number of workers: parallel streams come from
``SeedSequence.spawn``, never from the order in which workers draw.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_seed

__all__ = ["numpy_generator", "seed_sequence", "spawn", "torch_generator"]


def _is_torch_generator(seed):
    return type(seed).__module__.startswith("torch") and type(seed).__name__ == "Generator"


def seed_sequence(seed, name="seed") -> np.random.SeedSequence:
    """A ``SeedSequence`` from any accepted seed (generators give one drawn from their stream)."""
    seed = check_seed(seed, name)
    if seed is None or isinstance(seed, int):
        return np.random.SeedSequence(seed)
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.BitGenerator):
        seed = np.random.Generator(seed)
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)))
    import torch

    return np.random.SeedSequence(int(torch.randint(0, 2**62, (1,), generator=seed, device=seed.device).item()))


def numpy_generator(seed, name="seed") -> np.random.Generator:
    """A ``numpy.random.Generator``: a Generator is used as is (its stream continues)."""
    seed = check_seed(seed, name)
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.BitGenerator):
        return np.random.Generator(seed)
    return np.random.default_rng(seed_sequence(seed, name))


def spawn(seed, n, name="seed") -> list[np.random.SeedSequence]:
    """``n`` independent child sequences: stream ``k`` depends on the seed and ``k`` only."""
    return seed_sequence(seed, name).spawn(n)


def torch_generator(seed, device, name="seed"):
    """A ``torch.Generator`` on ``device``; a torch.Generator on that device is used as is.

    An integer seeds it directly (``manual_seed``), so that ``seed=0`` is torch's own ``seed=0``;
    numpy seeds give a 63-bit integer drawn from their sequence.
    """
    import torch

    seed = check_seed(seed, name)
    device = torch.device(device)
    if _is_torch_generator(seed):
        if seed.device.type != device.type:
            raise ValueError(f"{name} is a torch.Generator on {seed.device}, the work runs on {device}")
        return seed
    gen = torch.Generator(device=device)
    if seed is None:
        gen.seed()
    elif isinstance(seed, int):
        gen.manual_seed(seed)
    else:
        gen.manual_seed(int(seed_sequence(seed, name).generate_state(1, np.uint64)[0] >> np.uint64(1)))
    return gen
