"""A real headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``).

Enough for the UI test: open a page, wait for a condition, run JavaScript, take a screenshot.
No WebDriver and no extra package: Chromium reads JSON commands from file descriptor 3 and
writes replies and events to descriptor 4, each message ended by a NUL byte.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from pathlib import Path


class Browser:
    """One headless Chromium with one page; use as a context manager."""

    def __init__(self, executable: str, width: int = 1400, height: int = 1600):
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()
        os.set_inheritable(to_browser_read, True)
        os.set_inheritable(from_browser_write, True)
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            f"--window-size={width},{height}",
            "--remote-debugging-pipe",
        ]
        preexec = _descriptors_3_and_4(to_browser_read, from_browser_write)
        self._process = subprocess.Popen(
            [executable, *flags, "about:blank"],
            pass_fds=(3, 4, to_browser_read, from_browser_write),
            preexec_fn=preexec,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer, self._next_id = b"", 0
        page = next(t for t in self.command("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self._session = self.command("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self._process.kill()
        self._process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)

    def command(self, method: str, session: str | None = None, **params) -> dict:
        """Send one DevTools command and return its result (events in between are skipped)."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params, **({"sessionId": session} if session else {})}
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def open(self, url: str) -> None:
        self.command("Page.navigate", self._session, url=url)

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.command("Runtime.evaluate", self._session, expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60.0) -> None:
        """Poll a JavaScript condition until it is true (errors while the page loads count as false)."""
        deadline = time.time() + timeout
        while not self._true(expression):
            if time.time() > deadline:
                raise TimeoutError(f"page never satisfied: {expression}")
            time.sleep(0.25)

    def _true(self, expression: str) -> bool:
        try:
            return bool(self.evaluate(expression))
        except RuntimeError:
            return False

    def screenshot(self, path: Path) -> None:
        data = self.command("Page.captureScreenshot", self._session, format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def _read(self) -> dict:
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)


def _descriptors_3_and_4(read_end: int, write_end: int):
    """In the child: Chromium expects its command pipe on fd 3 and its reply pipe on fd 4 (both also in
    ``pass_fds``, or the child's closing of inherited descriptors, which runs after this, would close them)."""

    def place() -> None:
        high_read, high_write = os.dup(read_end), os.dup(write_end)  # out of the way of 3 and 4
        os.dup2(high_read, 3)
        os.dup2(high_write, 4)

    return place
