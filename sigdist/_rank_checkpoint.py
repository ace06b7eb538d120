"""Checkpoint files of :class:`sigdist.rank_chain.RankChain`: atomic writing, reading, and validation.

A checkpoint is one ``.npz`` file: ``meta`` (a JSON object of the chain's settings and counters) and the
arrays of its state (the factor ``L``, the random streams, the batch-means accumulators of ``r`` and of
the soft rank, the thinned trace). Format version 2 (sigdist 0.2) names its settings as the glossary does
(``width``, ``n_networks``, ``n_steps``, ``lemma1_violations``) and records the layer's ``sigma_w2``;
version 1 files (``d``, ``n_chains``, ``steps``) are refused with a message saying so.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

from ._checks import check_bool, check_integer, check_positive
from ._rank_checks import check_dtype, check_gamma, check_rows, check_tau
from .weights import get_weight_law

__all__ = ["FORMAT_VERSION", "numpy_generators", "read_checkpoint", "recorded", "torch_generator_from_state",
           "write_checkpoint"]

FORMAT_VERSION = 2

META_KEYS = ("version", "width", "gamma", "sigma_w2", "weight_law", "n_networks", "batch", "center", "dtype",
             "backend", "device", "n_steps", "burn_in", "tau", "thin", "soft_rank_thin", "lemma1_violations",
             "trace_every")
ARRAY_KEYS = ("L", "rng", "trace_steps", "trace_r", "r_blocks", "r_partial", "r_total", "r_total_sq", "r_ints",
              "s_blocks", "s_partial", "s_total", "s_total_sq", "s_ints")


def recorded(n_steps, burn_in, thin):
    """Number of steps ``ell`` in ``(burn_in, n_steps]`` with ``ell % thin == 0``."""
    return max(0, n_steps // thin - burn_in // thin)


def write_checkpoint(path, chain, snap):
    """Write a chain's committed snapshot ``snap`` (its state, streams and statistics) to ``path`` atomically.

    ``chain`` gives the settings (its public attributes); an interrupt never leaves half a file (``os.replace``).
    """
    meta = {"version": FORMAT_VERSION, "width": chain.width, "gamma": chain.gamma, "sigma_w2": chain.sigma_w2,
            "weight_law": chain.weight_law.name, "n_networks": chain.n_networks, "batch": chain.batch,
            "center": chain.center, "dtype": chain.dtype_name, "backend": chain.backend, "device": str(chain.device),
            "n_steps": snap["n_steps"], "burn_in": chain.burn_in, "tau": chain.tau, "thin": chain.thin,
            "soft_rank_thin": chain.soft_rank_thin, "lemma1_violations": snap["violations"],
            "trace_every": snap["trace_every"]}
    numpy = chain.backend == "numpy"
    arrays = {"L": snap["L"] if numpy else snap["L"].cpu().numpy(),
              "rng": np.array(snap["rng"]) if numpy else snap["rng"],
              "trace_steps": np.array(snap["trace"][0], np.int64),
              "trace_r": np.array(snap["trace"][1]).reshape(-1, chain.n_networks),
              **snap["r"].state("r"), **snap["s"].state("s")}
    path = os.fspath(path)
    tmp = path + ".tmp.npz"
    np.savez(tmp, meta=np.array(json.dumps(meta)), **arrays)
    os.replace(tmp, path)


def numpy_generators(path, arrays, n_networks):
    """One numpy Generator per chain, in the PCG64 states the checkpoint recorded."""
    gens = [np.random.Generator(np.random.PCG64()) for _ in range(n_networks)]
    try:
        states = json.loads(str(arrays["rng"]))
        if not isinstance(states, list) or len(states) != n_networks:
            raise ValueError(f"one state per chain ({n_networks})")
        for g, state in zip(gens, states):
            g.bit_generator.state = state
    except (ValueError, TypeError, KeyError) as err:
        raise ValueError(f"checkpoint {os.fspath(path)!r} is inconsistent: rng must hold numpy PCG64 states ({err})") \
            from None
    return gens


def torch_generator_from_state(path, arrays, device):
    """The torch Generator on ``device`` in the state the checkpoint recorded."""
    import torch

    gen = torch.Generator(device=device)
    try:
        gen.set_state(torch.from_numpy(arrays["rng"]))
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"checkpoint {os.fspath(path)!r} is inconsistent: rng must hold a torch generator state "
                         f"({err})") from None
    return gen


def read_checkpoint(path):
    """``(meta, arrays)`` of a checkpoint, checked for consistency (ValueError naming the file and the field)."""
    path = os.fspath(path)
    with np.load(path, allow_pickle=False) as data:
        try:
            meta = json.loads(str(data["meta"]))
            arrays = {key: np.array(data[key]) for key in data.files if key != "meta"}
        except (KeyError, ValueError) as err:
            raise ValueError(f"checkpoint {path!r} is not a RankChain checkpoint ({err})") from None
    try:
        meta = check_checkpoint(meta, arrays)
    except ValueError as err:
        raise ValueError(f"checkpoint {path!r} is inconsistent: {err}") from None
    return meta, arrays


def check_checkpoint(meta, arrays):
    """Validate a checkpoint's metadata and arrays against each other (ValueError naming the field)."""
    if not isinstance(meta, dict):
        raise ValueError(f"meta must be a JSON object, got {type(meta).__name__}")
    version = meta.get("version", 1)
    if version != FORMAT_VERSION:
        raise ValueError(f"version must be {FORMAT_VERSION}, got {version!r}" + (
            " (a file of sigdist 0.1, whose settings d, n_chains, steps are now width, n_networks, n_steps: "
            "rerun the chain, or rename those keys of its meta and add sigma_w2 = 1.0)" if version == 1 else ""))
    missing = [key for key in META_KEYS if key not in meta] + [key for key in ARRAY_KEYS if key not in arrays]
    if missing:
        raise ValueError(f"fields missing: {', '.join(missing)}")
    meta = dict(meta)
    meta["width"] = check_integer(meta["width"], "width", 2)
    meta["n_networks"] = check_integer(meta["n_networks"], "n_networks", 1)
    meta["batch"] = check_integer(meta["batch"], "batch", 1)
    meta["gamma"] = check_gamma(meta["gamma"])
    meta["sigma_w2"] = check_positive(meta["sigma_w2"], "sigma_w2")
    get_weight_law(meta["weight_law"])
    meta["center"] = check_bool(meta["center"], "center")
    meta["dtype"] = check_dtype(meta["dtype"])
    if meta["backend"] not in ("numpy", "torch"):
        raise ValueError(f"backend must be 'numpy' or 'torch', got {meta['backend']!r}")
    n_steps = meta["n_steps"] = check_integer(meta["n_steps"], "n_steps", 0)
    burn_in = meta["burn_in"] = check_integer(meta["burn_in"], "burn_in", 0)
    meta["tau"] = check_tau(meta["tau"])
    thin = meta["thin"] = check_integer(meta["thin"], "thin", 1)
    soft_thin = meta["soft_rank_thin"] = check_integer(meta["soft_rank_thin"], "soft_rank_thin", 1)
    meta["trace_every"] = check_integer(meta["trace_every"], "trace_every", 1)
    both = recorded(n_steps, burn_in, thin * soft_thin // math.gcd(thin, soft_thin))
    violations = meta["lemma1_violations"] = check_integer(meta["lemma1_violations"], "lemma1_violations", 0)
    K, d = meta["n_networks"], meta["width"]
    if violations > both * K:
        raise ValueError(f"lemma1_violations must be <= the {both * K} steps recorded for both statistics, "
                         f"got {violations}")
    L = arrays["L"]
    shape = (K, d, min(d, meta["batch"]))
    if L.shape != shape or not np.issubdtype(L.dtype, np.floating):
        raise ValueError(f"L must be a float array of shape (n_networks, width, min(width, batch)) = {shape}, got "
                         f"{L.dtype} {L.shape}")
    if not np.all(np.isfinite(L)):
        raise ValueError("L must be finite, got nan or inf entries")
    check_rows(L, "L")
    for prefix, name, every in (("r", "r(H)", thin), ("s", "soft rank", soft_thin)):
        _check_batch_means(arrays, prefix, name, K, recorded(n_steps, burn_in, every), (burn_in, n_steps, every))
    trace_steps, trace_r = arrays["trace_steps"], arrays["trace_r"]
    if trace_steps.ndim != 1 or trace_r.shape != (trace_steps.size, K):
        raise ValueError(f"trace_r must have shape (len(trace_steps), n_networks) = ({trace_steps.size}, {K}), "
                         f"got {trace_r.shape}")
    if trace_steps.size and (np.any(trace_steps <= burn_in) or np.any(trace_steps > n_steps)):
        raise ValueError(f"trace_steps must lie in (burn_in, n_steps] = ({burn_in}, {n_steps}]")
    return meta


def _check_batch_means(arrays, prefix, name, K, count_expected, where):
    burn_in, n_steps, every = where
    ints = arrays[f"{prefix}_ints"]
    if ints.shape != (4,) or not np.issubdtype(ints.dtype, np.integer):
        raise ValueError(f"{prefix}_ints must be 4 integers, got {ints.dtype} {ints.shape}")
    n_blocks, block_len, partial_count, count = (int(v) for v in ints)
    if count != count_expected:
        raise ValueError(f"{prefix}_ints count must be the {count_expected} {name} values recorded in steps "
                         f"({burn_in}, {n_steps}] every {every}, got {count}")
    blocks = arrays[f"{prefix}_blocks"]
    if n_blocks < 1 or block_len < 1 or not 0 <= partial_count < block_len or blocks.ndim != 2 \
            or blocks.shape[0] != K or blocks.shape[1] >= 2 * n_blocks \
            or blocks.shape[1] * block_len + partial_count != count:
        raise ValueError(f"{prefix}_blocks and {prefix}_ints must describe {count} recorded values in blocks, "
                         f"got blocks of shape {blocks.shape}, ints {ints.tolist()}")
    for part in ("partial", "total", "total_sq"):
        a = arrays[f"{prefix}_{part}"]
        if a.shape != (K,) or not np.all(np.isfinite(a)):
            raise ValueError(f"{prefix}_{part} must hold {K} finite values, got shape {a.shape}")
    if not np.all(np.isfinite(blocks)):
        raise ValueError(f"{prefix}_blocks must be finite")
