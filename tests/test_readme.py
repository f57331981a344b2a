"""The README's promises: exactly two set-up commands up front, and the main job prints what it shows."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)


def fences() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in _FENCE.finditer(README)]


def test_the_readme_opens_with_two_commands_install_and_run_then_install_and_test() -> None:
    first, second = fences()[:2]
    assert first[0] == second[0] == "bash"
    assert all("\n" == body[-1] and body.count("\n") == 1 for _, body in (first, second)), "one line each"
    assert "pip install -e ." in first[1] and "python -m gradcore minimize" in first[1]
    assert 'pip install -e ".[test]"' in second[1] and "python -m pytest" in second[1]
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert 'pip install --quiet -e ".[test]"' in ci and "python -m pytest" in ci


def test_the_main_job_prints_what_the_readme_shows() -> None:
    command = fences()[0][1].split("&& ")[-1].strip()
    shown = fences()[2]
    assert shown[0] == "text"
    args = re.findall(r'"[^"]*"|\S+', command)[3:]  # after: python -m gradcore
    out = subprocess.run([sys.executable, "-m", "gradcore", *[a.strip('"') for a in args]],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert out.stdout == shown[1]
