"""Progress on long work: one tqdm bar on stderr that appears only when the work turns out to be slow.

Every sigdist call that can run past about two seconds takes ``progress=None`` and wraps its loop in
:func:`progress_bar`:

* ``None`` (the default): the bar appears once the work has run :data:`DELAY` seconds, so fast calls
  stay silent and slow ones say how far they are (tqdm's ``delay``);
* ``True``: the bar appears at once;
* ``False``: no bar and no tqdm object at all.

The bar is closed on the way out whatever happens (an interrupt, an error), and the exception goes on.
"""

from __future__ import annotations

import contextlib
import sys
import time

import numpy as np

__all__ = ["DELAY", "check_progress", "progress_bar"]

#: seconds of work after which a ``progress=None`` bar appears
DELAY = 2.0


def check_progress(progress):
    """``progress`` checked: ``None``, ``True`` or ``False`` (numpy booleans accepted), else ``ValueError``."""
    if progress is None:
        return None
    if isinstance(progress, (bool, np.bool_)):
        return bool(progress)
    raise ValueError(f"progress must be None (a bar once the work has run {DELAY:g} s), True (a bar at once) or "
                     f"False (never), got {progress!r}")


class _Silent:
    """What :func:`progress_bar` yields for ``progress=False``: every call does nothing."""

    total = None
    n = 0

    def update(self, n=1):
        return None

    def set_postfix_str(self, s=""):
        return None

    def set_description_str(self, desc=None):
        return None


class _Bar:
    """A tqdm bar whose texts wait for the delay too (tqdm's ``set_postfix_str`` draws the bar at once)."""

    def __init__(self, bar, delay):
        self._bar, self._delay, self._start = bar, delay, time.monotonic()

    @property
    def total(self):
        return self._bar.total

    @total.setter
    def total(self, value):
        self._bar.total = value

    @property
    def n(self):
        return self._bar.n

    def _due(self):
        return time.monotonic() - self._start >= self._delay

    def update(self, n=1):
        self._bar.update(n)

    def set_postfix_str(self, s=""):
        self._bar.set_postfix_str(s, refresh=self._due())

    def set_description_str(self, desc=None):
        self._bar.set_description_str(desc, refresh=self._due())


@contextlib.contextmanager
def progress_bar(total, desc, progress=None, unit="it", *, initial=0):
    """A progress bar on stderr for ``total`` units of work (a context manager).

    Parameters
    ----------
    total : int or None
        Units of work (``None``: unknown; the bar counts without a percentage). It may be set later
        through the bar's ``total`` attribute.
    desc : str
        What is being computed, shown before the bar.
    progress : bool or None
        ``None``: the bar appears once the work has run :data:`DELAY` seconds; ``True``: at once;
        ``False``: never.
    unit : str
        Name of one unit of work (``"layer"``, ``"step"``, ``"network"`` ...).
    initial : int
        Units already done (a resumed run).

    Yields
    ------
    bar
        An object with ``update(n=1)``, ``set_postfix_str(text)``, ``set_description_str(text)`` and a
        settable ``total`` (a ``tqdm.auto.tqdm`` inside, or a silent stand-in for ``progress=False``).

    Raises
    ------
    ValueError
        If ``progress`` is not ``None``, ``True`` or ``False``.

    Examples
    --------
    >>> from sigdist._progress import progress_bar
    >>> with progress_bar(3, "three steps", progress=False) as bar:
    ...     for _ in range(3):
    ...         bar.update()
    """
    progress = check_progress(progress)
    if progress is False:
        yield _Silent()
        return
    from tqdm.auto import tqdm

    delay = 0.0 if progress else DELAY
    bar = tqdm(total=total, desc=desc, unit=unit, initial=initial, file=sys.stderr, dynamic_ncols=True, delay=delay)
    try:
        yield _Bar(bar, delay)
    finally:
        bar.close()
