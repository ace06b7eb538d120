"""The store of a resumable sweep: a directory with a manifest and one ``.npz`` file per finished chunk.

``sweep.json`` records what the sweep is (analysis, the function it runs as ``module:qualname`` with a
hash of its code, sigdist's version, axes, fixed parameters, seed, chunk size, outputs);
``chunk-000042.npz`` holds chunk 42's values, ``error`` and ``warning`` messages. A chunk file is written
to a temporary name, flushed to disk and renamed, so a file that exists is complete; one that cannot be
read (truncated, corrupt) is computed again.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy as np

__all__ = ["ChunkStore"]

MANIFEST = "sweep.json"
FORMAT = 2  # 2: the function (module:qualname, code hash) and sigdist_version; the seed as JSON ints


def _plain(value):
    """A JSON-comparable form of a manifest entry (numpy scalars and arrays as Python values)."""
    return json.loads(json.dumps(value, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v)))


class ChunkStore:
    """A directory of finished chunks of one sweep (see the module docstring)."""

    def __init__(self, path, manifest):
        self.path = os.fspath(path)
        self.manifest = _plain({"format": FORMAT, **manifest})

    def existing_seed(self):
        """The seed recorded by an earlier run (a sweep with ``seed=None`` resumes with it), or None."""
        old = self._read_manifest()
        return None if old is None else old.get("seed")

    def _read_manifest(self):
        file = os.path.join(self.path, MANIFEST)
        if not os.path.exists(file):
            return None
        with open(file) as f:
            return json.load(f)

    def open(self):
        """Create the directory, or check that its manifest describes this sweep (ValueError naming the difference)."""
        old = self.check()
        if old is None:
            os.makedirs(self.path, exist_ok=True)
            self._write(MANIFEST, lambda f: f.write(json.dumps(self.manifest, indent=1).encode()))

    def check(self, ignore=()):
        """Refuse a store written by another sweep (ValueError naming the difference), comparing every entry
        of the manifest but those in ``ignore``; the manifest found there, or None where there is none."""
        self.manifest = _plain(self.manifest)
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise ValueError(f"store must be a directory, got the file {self.path!r}")
        old = self._read_manifest()
        if old is None:
            if os.path.isdir(self.path) and any(n.startswith("chunk-") for n in os.listdir(self.path)):
                raise ValueError(f"store {self.path!r} holds chunk files but no {MANIFEST}: not a sweep store")
            return None
        for key in sorted(set(old) | set(self.manifest)):
            if key in ignore or old.get(key) == self.manifest.get(key):
                continue
            if key in ("axes", "fixed") and isinstance(old.get(key), dict) and isinstance(self.manifest.get(key), dict):
                a, b = old[key], self.manifest[key]
                names = [n for n in dict.fromkeys([*a, *b]) if a.get(n) != b.get(n)]
                raise ValueError(f"store {self.path!r} was written by a sweep with other {key}: "
                                 + "; ".join(f"{n}={_short(a.get(n))} there, {_short(b.get(n))} here" for n in names))
            raise ValueError(f"store {self.path!r} was written by a sweep with {key}={_short(old.get(key))}, "
                             f"this sweep has {key}={_short(self.manifest.get(key))}")
        return old

    def _file(self, k):
        return os.path.join(self.path, f"chunk-{k:06d}.npz")

    def done(self):
        """Indices of the chunks whose files exist."""
        out = set()
        for name in os.listdir(self.path):
            if name.startswith("chunk-") and name.endswith(".npz"):
                try:
                    out.add(int(name[6:-4]))
                except ValueError:
                    pass
        return out

    def read(self, k):
        """Chunk ``k``'s arrays, or None when its file cannot be read (it is then computed again)."""
        try:
            with np.load(self._file(k), allow_pickle=False) as f:
                return {name: f[name] for name in f.files}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # a truncated or corrupt file
            return None

    def write(self, k, arrays):
        self._write(os.path.basename(self._file(k)), lambda f: np.savez(f, **arrays))

    def _write(self, name, writer):
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                writer(f)
                f.flush()
                os.fsync(f.fileno())  # on disk before the rename makes it a finished chunk
            os.replace(tmp, os.path.join(self.path, name))
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise


def _short(value):
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."
