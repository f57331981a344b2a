"""Runs the code blocks of every Markdown file in docs/ and README.md, and checks what they print.

A ```python block runs in a namespace shared with the file's earlier blocks. If the next fenced
block is ```output, the python block's printed text must equal it exactly.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", re.S | re.M)


def blocks(path: Path) -> list[tuple[str, str, str | None, int]]:
    """(kind, code, expected output or None, line number) for each python block in `path`."""
    found = [(m.group(1), m.group(2), path.read_text()[:m.start()].count("\n") + 1)
             for m in _FENCE.finditer(path.read_text())]
    out = []
    for i, (kind, body, line) in enumerate(found):
        if kind != "python":
            continue
        expected = found[i + 1][1] if i + 1 < len(found) and found[i + 1][0] == "output" else None
        out.append((kind, body, expected, line))
    return out


@pytest.mark.parametrize("path", DOCS, ids=[p.name for p in DOCS])
def test_doc_code_blocks_run_and_print_what_they_show(path: Path, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__doc__"}
    for _, code, expected, line in blocks(path):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, f"{path.name}:{line}", "exec"), namespace)  # our own docs, not user text
        if expected is not None:
            assert buffer.getvalue() == expected, f"{path.name}:{line} printed something else"


def test_every_doc_has_code() -> None:
    for path in DOCS:
        assert blocks(path), f"{path.name} has no python block to run"
