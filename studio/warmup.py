"""Heavy imports done in the background once the first page is drawn. torch takes seconds to import on
a 2-core machine; Home does not need it (gan_core.data inspects datasets with numpy), so the pages
opened after it find it loaded instead of importing it first. torchvision, as slow again, is needed by
no page nor by the trainer (gan_core.grid makes their grids), so it is not warmed.

The import waits until no page has run for IDLE_S: a torch import holds the interpreter for
seconds, and a page drawn beside it (the next one a user clicks at once) took twice as long.
While the user reads a page, the import runs; a page that needs torch before then imports it itself.

Only third-party packages are warmed: their imports never wait on a module of this project, so the
page's own imports (which may be waiting on torch) cannot deadlock with the warm-up thread."""
from __future__ import annotations

import contextlib
import importlib
import logging
import threading
import time

HEAVY_MODULES = ("torch",)
IDLE_S = 1.0
POLL_S = 0.1

_lock = threading.Lock()
_thread: threading.Thread | None = None
_running = 0                      # page scripts running now, in any session
_last_run_end = time.monotonic()


@contextlib.contextmanager
def page_running():
    """Wrap each page run (studio/app.py), so the warm-up waits for the studio to be idle."""
    global _running, _last_run_end
    with _lock:
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            _last_run_end = time.monotonic()


def idle_for() -> float:
    """Seconds since the last page run ended, 0 while one runs."""
    with _lock:
        return 0.0 if _running else time.monotonic() - _last_run_end


def _import_all(modules: tuple[str, ...], idle_s: float) -> None:
    for name in modules:
        while idle_for() < idle_s:
            time.sleep(POLL_S)
        try:
            importlib.import_module(name)
        except Exception:  # the page that needs it reports the failure with its own message
            logging.getLogger(__name__).warning("warm-up import of %s failed", name, exc_info=True)


def warm_imports(modules: tuple[str, ...] = HEAVY_MODULES, idle_s: float = IDLE_S) -> threading.Thread:
    """Start importing `modules` in a daemon thread, once per process, each once no page has run for
    idle_s; the thread (started earlier or now) is returned."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_import_all, args=(modules, idle_s), name="studio-warm-imports",
                                       daemon=True)
            _thread.start()
        return _thread
