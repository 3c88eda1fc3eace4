"""Headless Chromium driven through the DevTools protocol over a pipe (stdlib only).

``chromium --remote-debugging-pipe`` reads commands from its file descriptor 3 and writes
replies and events to 4, each a JSON message ended by a NUL byte: no websocket client needed.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

CHROMIUM = shutil.which("chromium")
"""Debian's ``chromium``, if installed (tests that need it skip without it)."""


class BrowserError(RuntimeError):
    """Chromium answered a command with an error, or did not answer in time."""


class Browser:
    """One headless Chromium; ``with Browser() as browser: page = browser.open(url)``."""

    def __init__(self, width: int = 1400, height: int = 1000) -> None:
        self.width, self.height = width, height
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-")
        self._next_id = 0
        self._buffer = b""
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Browser:
        if CHROMIUM is None:
            raise BrowserError("chromium is not installed")
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()

        def pipes_at_3_and_4() -> None:
            os.dup2(commands_read, 3)
            os.dup2(replies_write, 4)

        self._process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--remote-debugging-pipe",
                f"--user-data-dir={self._profile.name}",
                f"--window-size={self.width},{self.height}",
                "about:blank",
            ],
            pass_fds=(3, 4),
            preexec_fn=pipes_at_3_and_4,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(commands_read)
        os.close(replies_write)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._process is not None
        try:
            self.send("Browser.close", timeout_s=5)
        except (BrowserError, OSError):
            pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._commands)
        os.close(self._replies)
        self._profile.cleanup()

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout_s: float = 30,
    ) -> dict[str, Any]:
        """Send one command and return its ``result`` (events on the way are dropped)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout_s
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self._next_id:
                    if "error" in reply:
                        raise BrowserError(f"{method}: {reply['error']}")
                    return reply.get("result", {})
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._replies], [], [], left)[0]:
                raise BrowserError(f"{method}: no answer in {timeout_s} s")
            chunk = os.read(self._replies, 1 << 16)
            if not chunk:
                raise BrowserError(f"{method}: chromium exited")
            self._buffer += chunk

    def open(self, url: str) -> Page:
        """A new tab showing ``url``."""
        target = self.send("Target.createTarget", {"url": url})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        return Page(self, session["sessionId"])


class Page:
    """A tab of :class:`Browser`."""

    def __init__(self, browser: Browser, session: str) -> None:
        self.browser, self.session = browser, session

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-able values only)."""
        result = self.browser.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            self.session,
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float = 20) -> Any:
        """Evaluate ``expression`` until it is truthy; its value, or an error after the timeout."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                value = self.evaluate(expression)
            except BrowserError:
                value = None  # the page is still loading
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"not true within {timeout_s} s: {expression}")
            time.sleep(0.2)

    def drag(self, x: float, y_from: float, y_to: float) -> None:
        """Press the mouse's left button at (x, y_from) of the viewport, move it to (x, y_to) in
        steps and release it there: the pointer events a person's drag gives."""
        steps = [y_from + (y_to - y_from) * k / 5 for k in range(6)]
        moves = [("mousePressed", steps[0])] + [("mouseMoved", y) for y in steps[1:]]
        for kind, y in [*moves, ("mouseReleased", steps[-1])]:
            pressed = 0 if kind == "mouseReleased" else 1
            event = {"type": kind, "x": x, "y": y, "button": "left", "buttons": pressed}
            self.browser.send("Input.dispatchMouseEvent", {**event, "clickCount": 1}, self.session)

    def screenshot(self, path: Path, height: int | None = None) -> Path:
        """Save the page as a PNG: its top ``height`` pixels, or all of it."""
        height = height or self.evaluate("document.documentElement.scrollHeight")
        data = self.browser.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": self.browser.width, "height": height, "scale": 1},
            },
            self.session,
        )["data"]
        path.write_bytes(base64.b64decode(data))
        return path
