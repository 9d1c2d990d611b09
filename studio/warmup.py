"""Heavy imports done in the background once the first page is drawn. torch takes seconds to import on
a 2-core machine; Home does not need it (gan_core.data inspects datasets with numpy), so the pages
opened after it find it loaded instead of importing it first. torchvision, as slow again, is needed by
no page nor by the trainer (gan_core.grid makes their grids), so it is not warmed.

Only third-party packages are warmed: their imports never wait on a module of this project, so the
page's own imports (which may be waiting on torch) cannot deadlock with the warm-up thread."""
from __future__ import annotations

import importlib
import logging
import threading

HEAVY_MODULES = ("torch",)

_lock = threading.Lock()
_thread: threading.Thread | None = None


def _import_all(modules: tuple[str, ...]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # the page that needs it reports the failure with its own message
            logging.getLogger(__name__).warning("warm-up import of %s failed", name, exc_info=True)


def warm_imports(modules: tuple[str, ...] = HEAVY_MODULES) -> threading.Thread:
    """Start importing `modules` in a daemon thread, once per process; the thread (started earlier
    or now) is returned."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_import_all, args=(modules,), name="studio-warm-imports", daemon=True)
            _thread.start()
        return _thread
