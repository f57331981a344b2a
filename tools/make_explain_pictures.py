"""Screenshots of `gradcore explain` pages for docs/explain.md, taken with headless Chromium.

    python tools/make_explain_pictures.py [CHROMIUM]

Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe), with the standard
library only; tests/test_browser.py drives it with the same small client. The pictures are the
tutorials' example at (1, 2), at 1280 and 390 pixels wide, light and dark, and the descent page of
x**2 + 2*x + 3.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
WORKED = "x**2 + 2*x*y + 3 + cos(x + 2*y)"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio", "--remote-debugging-pipe")


def find_chromium() -> str | None:
    """The Chromium program: $CHROMIUM, else the first of the usual names on PATH."""
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        found = name and shutil.which(name)
        if found:
            return found
    return None


class Chromium:
    """One headless Chromium and one page in it, driven by DevTools protocol commands on a pipe.

    Chromium reads commands on its fd 3 and writes replies and events on fd 4, each a JSON text
    ended by a NUL byte. Events are kept in `events` (console messages, exceptions, log entries)."""

    def __init__(self, program: str, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="gradcore-chromium-")
        to_chrome, self._write = os.pipe()
        self._read, from_chrome = os.pipe()
        # Moved out of the way of 3 and 4 first, so the child's dup2 onto them cannot clobber one.
        ends = [os.dup(to_chrome), os.dup(from_chrome)]
        for fd in (to_chrome, from_chrome):
            os.close(fd)
        for fd in ends:
            while fd <= 4:
                fd = os.dup(fd)

        def wire() -> None:  # in the child: its fd 3 reads our commands, its fd 4 writes to us
            os.dup2(ends[0], 3)
            os.dup2(ends[1], 4)

        # Its own log goes to a file (a pipe nobody reads would fill up and stall it).
        self.log = Path(self.profile) / "stderr.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen([program, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                                            preexec_fn=wire, pass_fds=(3, 4))
        for fd in ends:
            os.close(fd)
        self._buffer = b""
        self._id = 0
        self.events: list[dict] = []
        self.session: str | None = None
        target = self.send("Target.createTarget", url="about:blank", browser=True)["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True, browser=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")

    def _message(self) -> dict:
        deadline = time.monotonic() + self.timeout
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("Chromium stopped answering")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed its pipe")
            self._buffer += chunk
        text, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(text)

    def send(self, method: str, browser: bool = False, **params: Any) -> dict:
        """Run one command (on the page, or on the browser itself) and return its result."""
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if self.session and not browser:
            message["sessionId"] = self.session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._message()
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, event: str) -> dict:
        for i, e in enumerate(self.events):
            if e.get("method") == event:
                return self.events.pop(i)
        while True:
            e = self._message()
            if e.get("method") == event:
                return e
            self.events.append(e)

    def open(self, path: Path, width: int, height: int = 900, dark: bool = False) -> None:
        """Load the file `path` in a window `width` x `height` CSS pixels, in the light or dark scheme."""
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=width < 600)
        self.send("Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme",
                                                           "value": "dark" if dark else "light"}])
        self.send("Page.navigate", url=path.resolve().as_uri())
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-like values)."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, full: bool = True) -> Path:
        """A PNG of the page, the whole length of it when `full`."""
        params: dict[str, Any] = {"format": "png"}
        if full:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1})
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", **params)["data"]))
        return path

    def errors(self) -> list[str]:
        """The console errors, uncaught exceptions and error log entries seen so far."""
        out = []
        for e in self.events:
            method, p = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(str(p.get("exceptionDetails", {}).get("text")))
            elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(" ".join(str(a.get("value")) for a in p.get("args", [])))
            elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append(str(p["entry"].get("text")))
        return out

    def close(self) -> None:
        try:
            self.send("Browser.close", browser=True)
        except RuntimeError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._read, self._write):
            os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _smaller(path: Path) -> Path:
    """Fewer colours (text and flat fills need few), when Pillow is installed: a third of the bytes."""
    try:
        from PIL import Image
    except ImportError:
        return path
    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)
    return path


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    import gradcore as gc

    program = argv[1] if len(argv) > 1 else find_chromium()
    if program is None:
        print("no Chromium found: install it (apt-get install chromium) or name it", file=sys.stderr)
        return 2
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        worked = gc.explain(WORKED, at={"x": 1.0, "y": 2.0}).save(Path(tmp) / "worked.html")
        descent = gc.explain("x**2+2*x+3", minimize=True).save(Path(tmp) / "descent.html")
        # (page, width, dark, file, whether the first derivation is opened)
        shots = [(worked, 1280, False, "explain-worked-1280.png", True),
                 (worked, 390, False, "explain-worked-390.png", False),
                 (worked, 1280, True, "explain-worked-1280-dark.png", False),
                 (descent, 1280, False, "explain-minimize-1280.png", False)]
        with Chromium(program) as browser:
            for page, width, dark, name, opened in shots:
                browser.open(page, width, dark=dark)
                if opened:
                    browser.evaluate('document.querySelector("details").open = true')
                print(_smaller(browser.screenshot(IMAGES / name)).relative_to(ROOT))
            problems = browser.errors()
    if problems:
        print("console errors:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
