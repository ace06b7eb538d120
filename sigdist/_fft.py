"""Real FFTs through pyfftw when it is installed, scipy.fft otherwise.

``benchmarks/bench_fft.py`` measures both backends over sizes; the crossover it
found is recorded in ``benchmarks/README.md`` and encoded in ``PYFFTW_MIN_SIZE``
and ``PYFFTW_MAX_SIZE``.
"""

from __future__ import annotations

import os

import numpy as np
import scipy.fft as _scipy_fft

try:  # pyfftw is optional at import
    import pyfftw
    import pyfftw.interfaces.scipy_fft as _pyfftw_fft

    pyfftw.interfaces.cache.enable()
    pyfftw.interfaces.cache.set_keepalive_time(30.0)
    HAVE_PYFFTW = True
except ImportError:  # pragma: no cover - exercised where pyfftw is missing
    _pyfftw_fft = None
    HAVE_PYFFTW = False

# Transforms with PYFFTW_MIN_SIZE <= n < PYFFTW_MAX_SIZE go to pyfftw: measured 1.1-2.5x faster
# there, slower below (call overhead) and at 4M points (see benchmarks/README.md).
PYFFTW_MIN_SIZE = 1 << 12
PYFFTW_MAX_SIZE = 1 << 22
_BACKEND = os.environ.get("SIGDIST_FFT", "auto")  # "auto", "scipy" or "pyfftw"
_THREADS = 1


def backend_for(n: int) -> str:
    """Name of the backend used for a transform of length ``n``."""
    if _BACKEND == "scipy" or not HAVE_PYFFTW:
        return "scipy"
    if _BACKEND == "pyfftw":
        return "pyfftw"
    return "pyfftw" if PYFFTW_MIN_SIZE <= n < PYFFTW_MAX_SIZE else "scipy"


def rfft(x, n=None):
    n = np.shape(x)[-1] if n is None else n
    if backend_for(n) == "pyfftw":
        return _pyfftw_fft.rfft(x, n, workers=_THREADS)
    return _scipy_fft.rfft(x, n)


def irfft(x, n):
    if backend_for(n) == "pyfftw":
        return _pyfftw_fft.irfft(x, n, workers=_THREADS)
    return _scipy_fft.irfft(x, n)


def next_fast_len(n: int) -> int:
    return _scipy_fft.next_fast_len(n, real=True)


# Below this many multiply-adds a direct convolution is cheap, and it keeps relative accuracy in the
# far tails of positive sequences, where an FFT's absolute roundoff (1e-16 of the peak) would dominate.
DIRECT_CONVOLUTION_MAX_WORK = 4_000_000


def convolve(a, b):
    """Full linear convolution of two real sequences (direct when small, else by FFT)."""
    if a.size * b.size <= DIRECT_CONVOLUTION_MAX_WORK:
        return np.convolve(a, b)
    n = a.size + b.size - 1
    m = next_fast_len(n)
    return irfft(rfft(a, m) * rfft(b, m), m)[:n]
