r"""Parameter sweeps on dask.distributed, returned as an ``xarray.Dataset``.

:func:`sweep` runs one analysis (:mod:`sigdist.analyses`) at every point of the grid spanned by
its axes, in tasks of ``chunks`` grid points each, on a dask cluster (an embedded ``LocalCluster``
by default), and labels the results: one dimension per axis in the order given, the values with
their standard errors or error estimates beside them, units and descriptions as attributes.

Determinism: point ``i`` (its flat index in C order over the axes) draws its randomness from
``SeedSequence(entropy=seed, spawn_key=(i,))``, so the numbers do not depend on the chunk size, the
number of workers or the order in which tasks finish: a serial run (``client="serial"``) and a run
on 50 workers agree to the bit (for analyses whose numerics do not depend on thread counts: the
embedded cluster pins numba and BLAS to one thread per worker).
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings

import numpy as np

from ._random import seed_sequence
from ._progress import check_progress, progress_bar
from ._sweep_engine import WORKER_ENV, completed, embedded_client, pin_threads, recording_warnings
from ._sweep_store import ChunkStore
from .analyses import ANALYSES, NETWORK_PARAMETERS, Analysis, Output, build_network, get_analysis

__all__ = ["WORKER_ENV", "sweep"]

_MAX_CHUNK = 10_000
_MESSAGE = 300  # characters kept of a point's error and warnings (the string variables' width)


def _python(value):
    """A numpy scalar as the Python value an analysis expects (int, float, str, bool)."""
    return value.item() if isinstance(value, np.generic) else value


class _Plan:
    """What a task needs: small and picklable (the axes' values, not the grid)."""

    def __init__(self, analysis: Analysis, names, values, fixed, entropy, spawn_key, outputs):
        # a registered analysis travels by name (its functions are looked up on the worker)
        self._analysis = analysis.name if ANALYSES.get(analysis.name) is analysis else analysis
        self.names, self.values, self.fixed = list(names), [np.asarray(v) for v in values], dict(fixed)
        self.entropy, self.spawn_key = entropy, tuple(spawn_key)
        self.outputs = list(outputs)  # Output objects
        self.shape = tuple(len(v) for v in self.values)
        self.size = int(np.prod(self.shape, dtype=np.int64))

    @property
    def analysis(self) -> Analysis:
        return ANALYSES[self._analysis] if isinstance(self._analysis, str) else self._analysis

    def params(self, index):
        """The parameters of the point with flat index ``index``."""
        out = dict(self.fixed)
        for name, values, i in zip(self.names, self.values, np.unravel_index(index, self.shape)):
            out[name] = _python(values[i])
        return out

    def seed(self, index):
        return np.random.SeedSequence(self.entropy, spawn_key=(*self.spawn_key, int(index)))

    def evaluate(self, index):
        """One point: its dict of values (None where it failed), its error message and its warnings (each
        point records every warning it raises: see ``recording_warnings``)."""
        params = self.params(index)
        analysis = self.analysis
        net_params = {k: v for k, v in params.items() if k in NETWORK_PARAMETERS}
        kw = {k: v for k, v in params.items() if k not in NETWORK_PARAMETERS}
        if analysis.random:
            kw["seed"] = self.seed(index)
        with recording_warnings() as caught:
            try:
                network = build_network(analysis.network_kind, net_params)
                values = analysis.function(network, **kw)
                values = _check_values(values, self.outputs)
                error = _nonfinite(values, self.outputs)
            except Exception as err:  # a point that fails records its message; the sweep goes on
                values, error = None, f"{type(err).__name__}: {err}"
        seen = dict.fromkeys(caught)
        return values, error, "; ".join(seen)


def _check_values(values, outputs):
    if not isinstance(values, dict):
        raise TypeError(f"the analysis returned {type(values).__name__}, not a dict of values")
    names = [o.name for o in outputs]
    if set(values) != set(names):
        raise TypeError(f"the analysis returned the keys {sorted(values)}, expected {sorted(names)}")
    out = {}
    for o in outputs:
        v = np.asarray(values[o.name], dtype=np.float64)
        if v.shape != o.shape:
            raise TypeError(f"the analysis returned {o.name} of shape {v.shape}, expected {o.shape}")
        out[o.name] = v
    return out


def _nonfinite(values, outputs):
    """The error of a point whose values are not finite ('' where all are): NaN for any output, inf where
    the output does not document it (``Output.infinite``); the values are kept."""
    bad = []
    for o in outputs:
        v = values[o.name]
        if np.isnan(v).any():
            bad.append(f"{o.name} is NaN")
        elif np.isinf(v).any() and not o.infinite:
            bad.append(f"{o.name} is infinite")
    return f"non-finite value: {', '.join(bad)}" if bad else ""


def run_chunk(plan: _Plan, start: int, stop: int):
    """Evaluate the points ``start .. stop - 1``: a dict of arrays (values, ``error``, ``warning``)."""
    pin_threads()
    n = stop - start
    arrays = {o.name: np.full((n, *o.shape), np.nan) for o in plan.outputs}
    errors, warns = [], []
    for j, index in enumerate(range(start, stop)):
        values, error, warn = plan.evaluate(index)
        if values is not None:
            for name, v in values.items():
                arrays[name][j] = v
        errors.append(error[:_MESSAGE])
        warns.append(warn[:_MESSAGE])
    arrays["error"] = np.array(errors, dtype=str)
    arrays["warning"] = np.array(warns, dtype=str)
    return arrays


def _axes(analysis, axes):
    """Split ``axes`` into 1-D axes and fixed scalars; refuse unknown names, empty and non-1-D axes."""
    names, values, fixed = [], [], {}
    accepted = analysis.accepted
    if not axes:
        raise ValueError(f"sweep needs at least one axis (one of {', '.join(accepted)})")
    for name, value in axes.items():
        if name not in accepted:
            raise ValueError(f"axis {name!r} is not a parameter of analysis {analysis.name!r}; "
                             f"valid: {', '.join(accepted)}")
        if isinstance(value, (str, bytes)) or np.ndim(value) == 0:
            fixed[name] = _python(value.item() if isinstance(value, np.ndarray) else value)
            continue
        try:
            arr = np.asarray(value)
        except ValueError:
            raise ValueError(f"axis {name!r} must be a 1-D array of values") from None
        if arr.ndim != 1:
            raise ValueError(f"axis {name!r} must be 1-D, got shape {arr.shape}")
        if arr.size == 0:
            raise ValueError(f"axis {name!r} is empty (an axis needs at least one value)")
        if arr.dtype == object:
            raise ValueError(f"axis {name!r} must hold numbers or strings, got objects")
        if len(np.unique(arr)) != arr.size:
            raise ValueError(f"axis {name!r} has repeated values (coordinates must be unique)")
        names.append(name)
        values.append(arr)
    if not names:
        raise ValueError("sweep needs at least one 1-D axis (the scalars given are fixed parameters)")
    missing = [n for n in analysis.required if n not in names and n not in fixed]
    if missing:
        raise ValueError(f"analysis {analysis.name!r} needs {', '.join(missing)} (as an axis or a fixed scalar)")
    return names, values, fixed


def _check_one(analysis, params):
    network = build_network(analysis.network_kind, {k: v for k, v in params.items() if k in NETWORK_PARAMETERS})
    if analysis.check is not None:
        analysis.check(network, **{k: v for k, v in params.items() if k not in NETWORK_PARAMETERS})


def _check_points(analysis, names, values, fixed):
    """Refuse an axis value the analysis refuses, before any task: one point per distinct value."""
    base = {n: _python(v[0]) for n, v in zip(names, values)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:  # the first point: a refusal there is not blamed on whichever axis is checked first
            _check_one(analysis, {**fixed, **base})
        except (ValueError, TypeError) as err:
            with_fixed = f" with the fixed parameters {fixed}" if fixed else ""
            raise ValueError(f"analysis {analysis.name!r} refuses the first point {base}{with_fixed}: {err}") from None
        for name, vals in zip(names, values):
            if name not in NETWORK_PARAMETERS and analysis.check is None:
                continue  # a user's function: nothing to check but the network
            for value in vals:
                try:
                    _check_one(analysis, {**fixed, **base, name: _python(value)})
                except (ValueError, TypeError) as err:
                    raise ValueError(f"axis {name}={_python(value)!r}: analysis {analysis.name!r} refuses it: "
                                     f"{err}") from None


def _discover_outputs(plan):
    """A user's function: its outputs from its value at the first point (computed here, before any task)."""
    params = plan.params(0)
    net_params = {k: v for k, v in params.items() if k in NETWORK_PARAMETERS}
    kw = {k: v for k, v in params.items() if k not in NETWORK_PARAMETERS}
    if plan.analysis.random:
        kw["seed"] = plan.seed(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = plan.analysis.function(build_network(plan.analysis.network_kind, net_params), **kw)
    except (ValueError, TypeError) as err:
        raise ValueError(f"analysis {plan.analysis.name!r} fails at the first point {params}: {err}") from None
    if not isinstance(values, dict) or not values:
        raise ValueError(f"analysis {plan.analysis.name!r} must return a dict of floats, got {values!r:.60}")
    outputs = []
    for key, v in values.items():
        if not isinstance(key, str) or key in ("error", "warning") or key in plan.names or key in plan.fixed:
            raise ValueError(f"analysis {plan.analysis.name!r} returned the key {key!r}: keys must be strings other "
                             "than 'error', 'warning' and the names of the axes and fixed parameters "
                             f"({', '.join([*plan.names, *plan.fixed])})")
        shape = np.shape(v)
        outputs.append(Output(key, "", key, tuple(f"{key}_dim{i}" for i in range(len(shape))),
                              {f"{key}_dim{i}": np.arange(s) for i, s in enumerate(shape)}))
    return outputs


def _entropy(entropy):
    """A SeedSequence's entropy as JSON keeps it, and back: an int or a list of ints (a string from a
    store of an earlier format is parsed)."""
    if isinstance(entropy, str):
        entropy = json.loads(entropy)
    if isinstance(entropy, (int, np.integer)):
        return int(entropy)
    return [int(e) for e in entropy]


def _code_digest(code, digest):
    digest.update(code.co_code)
    digest.update(repr(code.co_names).encode())
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            _code_digest(const, digest)
        else:
            digest.update(repr(const).encode())


def _function_identity(function):
    """What a store records of the function a sweep runs: ``module:qualname`` and a hash of its bytecode,
    names and constants (nested functions included), so that a redefined function is not resumed."""
    name = f"{getattr(function, '__module__', None)}:{getattr(function, '__qualname__', type(function).__qualname__)}"
    code = getattr(function, "__code__", None) or getattr(getattr(function, "__call__", None), "__code__", None)
    if code is None:
        return {"function": name, "code_hash": None}
    digest = hashlib.sha256()
    _code_digest(code, digest)
    return {"function": name, "code_hash": digest.hexdigest()[:16]}


def _chunk_size(chunks, n):
    if chunks is None:
        # a function of the grid only (not of the cluster), so that a store resumes on any cluster
        return max(1, min(_MAX_CHUNK, math.ceil(n / 100)))
    if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)) or chunks < 1:
        raise ValueError(f"chunks must be an integer >= 1 (grid points per task), got {chunks!r}")
    return int(chunks)


def sweep(analysis, *, client=None, chunks=None, store=None, progress=None, seed=None, **axes):
    r"""Run ``analysis`` at every point of the grid spanned by ``axes``; an ``xarray.Dataset``.

    Parameters
    ----------
    analysis : str or callable
        A name in :data:`sigdist.analyses.ANALYSES` (``"squared_norm_law"``, ``"atom"``,
        ``"squared_norm_moments"``, ``"tail_index"``, ``"critical_window"``, ``"stationary_mean"``,
        ``"mean_cosine"``, ``"length_moments"``, ``"rank_chain"``), or a function
        ``f(network, **parameters) -> dict`` of floats (or arrays of a fixed shape); a ``seed`` argument
        receives the point's ``SeedSequence``. A user's function runs once here (at the first point, to
        read its outputs) and must be picklable for a cluster of processes (defined in a module).
    client : None, "serial" or distributed.Client
        None: an embedded ``LocalCluster`` sized to the machine (one process per core, one thread each,
        numba and BLAS pinned to one thread), closed on return. ``"serial"``: no dask, a loop here.
        A ``Client``: its cluster (``LocalCluster(processes=False)`` for tests, or a scheduler's address
        through ``Client("tcp://...")``).
    chunks : int, optional
        Grid points per task; default ``ceil(n / 100)`` capped at 10 000 (a function of the grid only).
    store : str or path, optional
        A directory where each finished chunk is written (``.npz``, beside a ``sweep.json`` manifest); a
        rerun computes only the chunks missing (or unreadable) there and assembles the result from it. A
        store written by another sweep (analysis, the function's ``module:qualname`` and code hash,
        sigdist's version, axes, fixed parameters, seed, chunks) is refused, before a user's function
        runs; a store that cannot be written stops the sweep (``OSError``).
    progress : None, bool
        A bar over chunks on stderr (None: once the work has run about 2 s).
    seed : None, int, SeedSequence or numpy Generator
        Point ``i`` (flat C-order index over the axes) draws from
        ``SeedSequence(entropy, spawn_key=(*spawn_key, i))``: the same numbers serially or on any
        number of workers, at any chunk size. None: fresh entropy (recorded in ``attrs["seed"]``; a
        rerun on a store takes the store's).
    **axes
        Parameter name -> 1-D array of values (one dimension each, in the order given) or a scalar (a
        fixed parameter, kept as a scalar coordinate). Network parameters: ``width``, ``depth`` (default
        1), ``sigma_w2`` (the variance of one weight entry as :class:`~sigdist.Layer` reads it, not
        scaled by ``1/width``: He is ``2 / width``), ``sigma_b2`` (default 0), ``activation`` (default
        relu), ``negative_slope``, ``weight_law``, ``gamma`` (the rank chain's residual strength); each
        point's network is ``Network.constant(width, depth, sigma_w2, sigma_b2, activation)``. Analysis
        parameters: those of the analysis (``y0``, ``tol``, ``rho``, ``n_networks``, ``n_steps`` ...;
        :attr:`Analysis.parameters`).

    Returns
    -------
    xarray.Dataset
        One data variable per output (dims: the axes, then the output's own, e.g. ``quantile``), with
        ``units`` and ``description`` attributes; the standard errors (``<name>_se``) and error
        estimates (``error_estimate``) beside the values; ``error`` (str: ``""`` where the point
        succeeded, else the exception's message and the values NaN; or the outputs that are not finite,
        NaN or an ``inf`` the output does not document, their values kept) and ``warning`` (the warnings a
        point raised, every one at every point that raises it). Attributes: ``analysis``,
        ``description``, ``sigdist_version``, ``seed``, ``seed_spawn_key``, ``chunks``, ``network`` (how
        a point's network is built) and ``failed_points`` (the points with a non-empty ``error``).

    Raises
    ------
    ValueError
        Before any task: an unknown analysis or axis name, an empty, repeated or non-1-D axis, an
        axis value the analysis refuses (each distinct value is checked at one point), a bad ``chunks``
        or ``progress``, a user's output named like an axis or a fixed parameter, or a store written by
        another sweep.

    Examples
    --------
    >>> import numpy as np, sigdist
    >>> ds = sigdist.sweep("tail_index", sigma_w2=[0.05, 0.1], width=[10, 20], client="serial", seed=0)
    >>> ds.tail_index.dims, float(ds.tail_index.sel(sigma_w2=0.1, width=20).round(6))
    (('sigma_w2', 'width'), 1.0)
    """
    analysis = get_analysis(analysis)
    names, values, fixed = _axes(analysis, axes)
    progress = check_progress(progress)
    if not (client is None or client == "serial" or hasattr(client, "submit")):
        raise ValueError(f"client must be None, 'serial' or a distributed.Client, got {client!r}")
    n = int(np.prod([len(v) for v in values], dtype=np.int64))
    size = _chunk_size(chunks, n)
    ss = seed_sequence(seed)
    _check_points(analysis, names, values, fixed)
    chunk_store = None
    if store is not None:
        from . import __version__

        manifest = {"analysis": analysis.name, "axes": {k: v for k, v in zip(names, values)}, "fixed": fixed,
                    "chunks": size, "sigdist_version": __version__, **_function_identity(analysis.function)}
        previous = ChunkStore(store, manifest).existing_seed() if seed is None else None
        if previous is not None:
            ss = np.random.SeedSequence(_entropy(previous["entropy"]), spawn_key=tuple(previous["spawn_key"]))
        manifest["seed"] = {"entropy": _entropy(ss.entropy), "spawn_key": [int(k) for k in ss.spawn_key]}
        chunk_store = ChunkStore(store, manifest)
        chunk_store.check(ignore=("outputs",))  # before a user's function runs at the first point
    plan = _Plan(analysis, names, values, fixed, ss.entropy, ss.spawn_key, analysis.outputs or ())
    if analysis.outputs is None:
        plan.outputs = _discover_outputs(plan)
    if chunk_store is not None:
        chunk_store.manifest["outputs"] = {o.name: list(o.shape) for o in plan.outputs}
        chunk_store.open()
    bounds = [(k, start, min(start + size, n)) for k, start in enumerate(range(0, n, size))]
    results = _run(plan, bounds, client, chunk_store, progress)
    return _dataset(plan, results, size)


def _run(plan, bounds, client, store, progress):
    """Every chunk's arrays, from the store where it holds them and by the engine otherwise."""
    results = {}
    if store is not None:
        for k in store.done():
            if k < len(bounds):
                arrays = store.read(k)
                if arrays is not None and len(arrays.get("error", ())) == bounds[k][2] - bounds[k][1]:
                    results[k] = arrays
    todo = [b for b in bounds if b[0] not in results]
    desc = f"sweep {plan.analysis.name}"
    with progress_bar(len(bounds), desc, progress, unit="chunk", initial=len(results)) as bar:
        if not todo:
            return results
        if client == "serial":
            for k, start, stop in todo:
                results[k] = _finish(store, k, run_chunk(plan, start, stop))
                bar.update(1)
            return results
        if client is None:
            with embedded_client() as own:
                _distributed(own, plan, todo, results, store, bar)
        else:
            _distributed(client, plan, todo, results, store, bar)
    return results


def _finish(store, k, arrays):
    if store is not None:
        store.write(k, arrays)
    return arrays


def _distributed(client, plan, todo, results, store, bar):
    futures = {client.submit(run_chunk, plan, start, stop, pure=False): (k, start, stop) for k, start, stop in todo}
    for (k, start, stop), fut in completed(client, futures):
        try:
            arrays = fut.result()
        except Exception as err:  # the task itself failed (a worker crash): not stored, recomputed on a rerun
            arrays = {o.name: np.full((stop - start, *o.shape), np.nan) for o in plan.outputs}
            arrays["error"] = np.full(stop - start, f"task failed: {type(err).__name__}: {err}")
            arrays["warning"] = np.full(stop - start, "")
        else:
            _finish(store, k, arrays)  # a store that cannot be written (disk full, permissions) stops the sweep
        results[k] = arrays
        bar.update(1)


def _dataset(plan, results, size):
    import xarray as xr

    from . import __version__

    n, shape = plan.size, plan.shape
    flat = {o.name: np.full((n, *o.shape), np.nan) for o in plan.outputs}
    for k, arrays in results.items():
        start = k * size
        stop = start + len(arrays["error"])
        for o in plan.outputs:
            flat[o.name][start:stop] = arrays[o.name]
    # the messages in flat order: one string array as wide as the longest message, no Python objects
    order = sorted(results)
    errors = np.concatenate([results[k]["error"] for k in order]) if order else np.full(n, "")
    warns = np.concatenate([results[k]["warning"] for k in order]) if order else np.full(n, "")
    coords = {name: values for name, values in zip(plan.names, plan.values)}
    coords.update(plan.fixed)
    data = {}
    for o in plan.outputs:
        coords.update({d: np.asarray(c) for d, c in o.coords.items()})
        data[o.name] = ((*plan.names, *o.dims), flat[o.name].reshape(*shape, *o.shape),
                        {"units": o.units, "description": o.description})
    data["error"] = (plan.names, errors.reshape(shape),
                     {"description": "the exception of a point that failed ('' where it succeeded; values NaN)"})
    data["warning"] = (plan.names, warns.reshape(shape),
                       {"description": "warnings raised at the point ('' where none)"})
    kind = "Network.bn_chain(width, gamma=gamma)" if plan.analysis.network_kind == "bn_chain" else \
        "Network.constant(width, depth, sigma_w2, sigma_b2, activation); sigma_w2 = variance of one weight entry"
    attrs = {"analysis": plan.analysis.name, "description": plan.analysis.description,
             "sigdist_version": __version__, "seed": str(plan.entropy),
             "seed_spawn_key": str(list(plan.spawn_key)), "chunks": size, "network": kind,
             "failed_points": int(np.sum(errors != ""))}
    return xr.Dataset(data, coords=coords, attrs=attrs)
