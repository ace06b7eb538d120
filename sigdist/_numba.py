"""``njit`` with an on-disk cache where one can be written, and without one where none can.

``numba.njit(cache=True)`` raises ``RuntimeError: cannot cache function ...: no locator
available`` at decoration time when neither the source tree (``__pycache__``) nor the
user cache directory (nor ``NUMBA_CACHE_DIR``) is writable, as on a read-only install:
``import sigdist`` would then fail. Here the function is compiled without a cache instead
(at its first call, as always), which only costs the compile time on every new process.
"""

from __future__ import annotations

import numba

__all__ = ["njit"]


def njit(*args, **options):
    """``numba.njit(cache=True, **options)``, falling back to ``cache=False`` when no cache is writable.

    Used as ``@njit`` or ``@njit(nogil=True)``.
    """
    if len(args) == 1 and callable(args[0]) and not options:
        return _compile(args[0], {})
    if args:
        raise TypeError("njit takes keyword options only (or the function itself)")
    return lambda func: _compile(func, options)


def _compile(func, options):
    try:
        return numba.njit(cache=True, **options)(func)
    except RuntimeError as err:
        if "no locator available" not in str(err):
            raise
        return numba.njit(cache=False, **options)(func)
