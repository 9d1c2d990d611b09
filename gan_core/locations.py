"""Where gan_core keeps what it can rebuild: the decoded-image and feature caches and the converted
Inception weights. One definition, used by the data layer and by scoring."""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "monet-gan-studio"


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The explicit argument, then $GAN_STUDIO_CACHE, then the platform's user cache folder
    (platformdirs: ~/.cache/monet-gan-studio on Linux, or under $XDG_CACHE_HOME when set;
    ~/Library/Caches/monet-gan-studio on macOS; %LOCALAPPDATA%\\monet-gan-studio\\Cache on Windows)."""
    return Path(cache_dir or os.environ.get("GAN_STUDIO_CACHE")
                or platformdirs.user_cache_dir(APP_NAME, appauthor=False))
