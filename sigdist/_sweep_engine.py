"""The dask side of sweeps and campaigns: the embedded cluster, thread pinning on workers, the progress bar."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import warnings

__all__ = ["WORKER_ENV", "completed", "embedded_client", "pin_threads", "recording_warnings"]

#: environment of the embedded cluster's worker processes: one thread per worker for numba and BLAS
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def pin_threads():
    """On a dask worker: numba at one thread (BLAS is pinned by the embedded cluster's environment)."""
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return
    if "numba" in sys.modules:
        import numba

        numba.set_num_threads(1)


def completed(client, submitted):
    """``(key, future)`` for each future of ``submitted`` (future -> key) as it finishes; the ones left are
    cancelled on the way out, whatever ends the loop (an interrupt, an error)."""
    from distributed import as_completed

    try:
        for fut in as_completed(list(submitted), loop=client.loop):
            yield submitted[fut], fut
    finally:
        client.cancel(list(submitted))


@contextlib.contextmanager
def embedded_client():
    """A Client on a LocalCluster of one single-threaded process per core, closed on leaving the context."""
    from distributed import Client, LocalCluster

    try:
        n_workers = len(os.sched_getaffinity(0))
    except AttributeError:
        n_workers = os.cpu_count() or 1
    with warnings.catch_warnings():  # "Port 8787 is already in use": another cluster's dashboard; none is needed
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR, env=WORKER_ENV)
    with cluster, Client(cluster) as client:
        yield client


_local = threading.local()
_install = threading.Lock()
_forward = {}


def _dispatch(message, category, filename, lineno, file=None, line=None):
    records = getattr(_local, "records", None)
    if records is None:
        return _forward["showwarning"](message, category, filename, lineno, file, line)
    records.append(f"{category.__name__}: {message}")


class _RecordingThread:
    """A filter's message pattern that matches in the threads that record their warnings, and nowhere else."""

    @staticmethod
    def match(text):
        return getattr(_local, "records", None) is not None

    def __repr__(self):
        return "<the threads recording a sweep point's warnings>"


_ALWAYS_HERE = ("always", _RecordingThread(), Warning, None, 0)


@contextlib.contextmanager
def recording_warnings():
    """The warnings shown in this thread while in the context, as a list of ``"Category: message"``.

    ``warnings.catch_warnings`` swaps process-wide state and cannot nest across threads (a worker with
    several threads would leave another task's recorder installed); here one dispatcher, installed once
    (again if something replaced it), sends each thread's warnings to that thread's list and the others'
    to the previous ``showwarning``. In a recording thread every warning is shown (the action
    ``"always"``: a filter at the front of ``warnings.filters`` that matches in recording threads only),
    so a warning repeated verbatim from the same line is recorded at every point, whatever the number
    of workers and the chunking, not only at the first one of each process; a ``catch_warnings`` block
    inside the point (one that ignores a warning on purpose) still takes precedence. Other threads keep
    the filters as they are.
    """
    with _install:
        if warnings.showwarning is not _dispatch:
            _forward["showwarning"] = warnings.showwarning
            warnings.showwarning = _dispatch
        if not warnings.filters or warnings.filters[0] is not _ALWAYS_HERE:
            warnings.filters[:] = [f for f in warnings.filters if f is not _ALWAYS_HERE]
            warnings.filters.insert(0, _ALWAYS_HERE)
            # the filters changed: the once-per-location registries are cleared (as simplefilter does)
            getattr(warnings, "_filters_mutated", lambda: None)()
    outer = getattr(_local, "records", None)
    _local.records = records = []
    try:
        yield records
    finally:
        _local.records = outer
