"""Rewrite the ```output blocks of a Markdown doc with what its ```python blocks print now.

Usage: python tools/update_doc_outputs.py docs/minimize.md [...]. Review the diff before committing:
tests/test_docs.py then checks that the docs keep printing exactly this.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout, even uninstalled
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", re.S | re.M)


def update(path: Path) -> bool:
    text = path.read_text()
    fences = list(_FENCE.finditer(text))
    namespace: dict = {"__name__": "__doc__"}
    pieces, last = [], 0
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            printed = None
            for m in fences:
                kind, body = m.group(1), m.group(2)
                if kind == "python":
                    buffer = io.StringIO()
                    with contextlib.redirect_stdout(buffer):
                        exec(compile(body, str(path), "exec"), namespace)  # our own docs
                    printed = buffer.getvalue()
                elif kind == "output" and printed is not None:
                    pieces.append(text[last:m.start(2)])
                    pieces.append(printed)
                    last = m.end(2)
                    printed = None
                else:
                    printed = None
        finally:
            os.chdir(cwd)
    new = "".join(pieces) + text[last:]
    if new != text:
        path.write_text(new)
        return True
    return False


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(("updated " if update(Path(name)) else "unchanged ") + name)
