"""Every test the documentation cites as a check exists under that name (docs/*.md, README.md)."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _citations():
    out = []
    for doc in sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]:
        current = None
        for match in re.finditer(r"`(tests/test_\w+\.py)?::(\w+)", doc.read_text()):
            current = match.group(1) or current
            if current:
                out.append((doc.name, current, match.group(2)))
    return out


def test_docs_cite_tests_that_exist():
    missing = []
    for doc, path, name in _citations():
        file = ROOT / path
        if not file.exists() or not re.search(rf"^def {name}\b", file.read_text(), flags=re.M):
            missing.append(f"{doc}: {path}::{name}")
    assert not missing, "\n".join(missing)
