"""Shared fixtures. Real data comes from environment variables that .ci/run sets:
GAN_STUDIO_DATA (the competition folder) and GAN_STUDIO_MNIST (MNIST raw/ folder). Locally they
default to ../shared beside the repo. Under CI a missing dataset fails the test; elsewhere it skips.
"""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"


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
