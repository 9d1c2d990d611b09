"""Headless Chromium against a real `streamlit run studio/app.py`, for tests/test_browser.py and
for looking at every page by hand:

    python tests/browser.py [--runs RUNS_DIR] [--data DATASET] [--out test-artifacts]

Chromium is driven over its DevTools protocol (websockets ships with Streamlit) rather than with
--virtual-time-budget: virtual time runs ahead while Streamlit's websocket waits for the server,
so a budget-based --dump-dom often caught the page before the script had drawn anything.
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from websockets.sync.client import connect

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WINDOW = (1400, 1000)
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                  f"--window-size={WINDOW[0]},{WINDOW[1]}"]
# What the page shows: its h1, whether a script run is in progress or elements are still loading
# (skeletons), and any exception boxes.
PAGE_STATE_JS = """(() => ({
  title: [...document.querySelectorAll('[data-testid="stMain"] h1')].map(h => h.innerText).join(' | '),
  busy: !!document.querySelector('[data-testid="stStatusWidget"], [data-testid="stSkeleton"], [data-testid="stSpinner"]'),
  exceptions: document.querySelectorAll('[data-testid="stException"]').length,
  text: document.querySelector('[data-testid="stMain"]')?.innerText ?? '',
}))()"""


def page_url(base: str, name: str) -> str:
    """The default page (Home) is served at the root, whatever its url_path."""
    return base if name == "home" else f"{base}/{name}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def _wait_for_http(url: str, process: subprocess.Popen, timeout: float, what: str) -> bytes:
    deadline = time.time() + timeout
    while True:
        try:
            return urllib.request.urlopen(url, timeout=2).read()
        except OSError:
            if process.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"{what} did not start (exit code {process.poll()})")
            time.sleep(0.5)


@contextlib.contextmanager
def studio_server(env: dict[str, str], timeout: float = 120):
    """`streamlit run studio/app.py` on a free localhost port; yields its base URL."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "studio/app.py", "--server.port", str(port),
             "--server.headless", "true"], cwd=REPO, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://localhost:{port}"
        try:
            _wait_for_http(f"{url}/_stcore/health", process, timeout, "the studio")
            yield url
        except RuntimeError:
            log.seek(0)
            raise RuntimeError(f"the studio did not start:\n{log.read().decode(errors='replace')[-3000:]}")
        finally:
            _stop(process)


@dataclass
class PageView:
    title: str
    text: str
    exceptions: int
    dom: str
    ready_s: float = 0.0  # from navigation until the page had its title and stopped running (its first paint)


class Browser:
    """One headless Chromium tab, driven over the DevTools protocol."""

    def __init__(self, connection):
        self._ws, self._ids = connection, itertools.count(1)

    def call(self, method: str, **params) -> dict:
        request_id = next(self._ids)
        self._ws.send(json.dumps({"id": request_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv())
            if message.get("id") == request_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def open(self, url: str, timeout: float = 90, settle_s: float = 1.5, poll_s: float = 0.25) -> PageView:
        """Load url and wait until the page has a title and has been idle for settle_s, looking every poll_s
        (its ready_s is late by up to poll_s: bench/first_paint.py polls finer)."""
        started = time.time()
        self.call("Page.navigate", url=url)
        deadline, quiet_since = started + timeout, None
        while time.time() < deadline:
            time.sleep(poll_s)
            state = self.evaluate(PAGE_STATE_JS) or {}
            if state.get("title") and not state.get("busy"):
                quiet_since = quiet_since or time.time()
                if time.time() - quiet_since >= settle_s:
                    break
            else:
                quiet_since = None
        dom = self.evaluate("document.documentElement.outerHTML")
        ready = (quiet_since or time.time()) - started
        return PageView(state.get("title", ""), state.get("text", ""), state.get("exceptions", 0), dom, ready)

    def screenshot(self, path: Path, full_page: bool = True) -> Path:
        """The window, or the whole page (the window stretched to the height of the content)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if full_page:
            height = self.evaluate('document.querySelector(\'[data-testid="stMain"]\')?.scrollHeight ?? 0')
            self.call("Emulation.setDeviceMetricsOverride", width=WINDOW[0], height=max(WINDOW[1], int(height)),
                      deviceScaleFactor=1, mobile=False)
            time.sleep(1)  # let charts re-layout at the new size
        try:
            path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))
        finally:
            if full_page:
                self.call("Emulation.clearDeviceMetricsOverride")
        return path


@contextlib.contextmanager
def chromium(timeout: float = 60):
    port = free_port()
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:  # renderers may still be writing
        process = subprocess.Popen([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                                    f"--remote-debugging-port={port}", "about:blank"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            targets = json.loads(_wait_for_http(f"http://127.0.0.1:{port}/json/list", process, timeout, "chromium"))
            page = next(t for t in targets if t["type"] == "page")
            with connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=timeout) as ws:
                yield Browser(ws)
        finally:
            _stop(process)


def main() -> None:
    sys.path.insert(0, str(REPO))
    from studio.navigation import PAGE_SPECS

    parser = argparse.ArgumentParser(description="Screenshots of every studio page")
    parser.add_argument("--runs", default=os.environ.get("GAN_STUDIO_RUNS", "runs"))
    parser.add_argument("--data", default=os.environ.get("GAN_STUDIO_DATA", ""))
    parser.add_argument("--out", default=str(REPO / "test-artifacts"))
    parser.add_argument("--pages", nargs="*", default=[spec[0] for spec in PAGE_SPECS])
    args = parser.parse_args()
    with studio_server({"GAN_STUDIO_RUNS": args.runs, "GAN_STUDIO_DATA": args.data}) as url, chromium() as browser:
        for name in args.pages:
            view = browser.open(page_url(url, name))
            path = browser.screenshot(Path(args.out) / f"{name}.png")
            print(f"{path}: title {view.title!r}, {view.exceptions} exception(s)")


if __name__ == "__main__":
    main()
