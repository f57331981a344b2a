"""Make the pictures of docs/pictures.md by running its python blocks, so the page and its images agree.

Usage: python tools/make_pictures.py [OUTPUT_DIR]   (default: docs/images). Needs matplotlib
(pip install gradcore[plot]). Prints each picture written; exits 1 if one the page shows is missing.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout, even uninstalled
PAGE = ROOT / "docs" / "pictures.md"
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", re.S | re.M)
_IMAGE = re.compile(r"!\[[^\]]*\]\(images/([^)\s]+\.png)\)")


def pictures() -> list[str]:
    """The PNG files under docs/images that the page shows."""
    return sorted(set(_IMAGE.findall(PAGE.read_text(encoding="utf-8"))))


def make(out: Path) -> list[str]:
    """Run the page's python blocks in `out` (they save their pictures into the current directory)."""
    import matplotlib
    matplotlib.use("Agg")  # a batch job: never open a window
    out.mkdir(parents=True, exist_ok=True)
    namespace: dict = {"__name__": "__doc__"}
    cwd = os.getcwd()
    os.chdir(out)
    try:
        for kind, body in _FENCE.findall(PAGE.read_text(encoding="utf-8")):
            if kind == "python":
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(body, str(PAGE), "exec"), namespace)  # our own page
    finally:
        os.chdir(cwd)
    return [name for name in pictures() if (out / name).is_file()]


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "docs" / "images"
    made = make(out.resolve())
    for name in made:
        print(out / name)
    missing = sorted(set(pictures()) - set(made))
    if missing:
        print(f"not made: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
