"""Atomic file writes: the one way gan_core replaces a file that someone may be reading.

Every writer goes through `atomic_path`: the new content is written to a temporary file in the
target's own folder (so the rename never crosses a file system), under a name made unique by
tempfile.mkstemp, so two writers of one target (two threads, two processes) never share a
temporary; it is flushed to disk when `fsync` (checkpoints, run files: where a loss would matter),
then renamed over the target with os.replace, and the folder is synced so the rename itself
survives a power cut. A reader sees the old file or the new one, never half of one; a failure
(or a kill) before the rename leaves the target untouched, and the temporary is removed on any
exception.

Temporary names are `.<target name>.<pid>.<random><suffix>`: hidden, never matching the globs
that list checkpoints, grids or caches, and carrying the writer's process id so that
`remove_stale_temporaries` can delete those of killed processes.

    write_bytes / write_text / write_json / torch_save / save_image   whole files at once
    atomic_open(target, "w" | "wb")   a file object to stream into
    atomic_path(target)               a temporary path, for writers that want a path (np memmaps,
                                      zip files validated before they are renamed)
"""
from __future__ import annotations

import errno
import functools
import json
import os
import tempfile
from contextlib import contextmanager
from glob import escape as glob_escape
from pathlib import Path
from typing import IO, Iterator

TEMP_SUFFIX = ".tmp"


@functools.lru_cache(maxsize=1)
def _umask() -> int:
    """The process umask, read without changing it where the platform allows."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def temporary_file(target: str | os.PathLike, suffix: str = TEMP_SUFFIX) -> Path:
    """A new empty file with a unique name beside `target`, with the permissions a plain open()
    would have given the target (mkstemp's own are 0600). The caller removes or commits it."""
    target = Path(target)
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=suffix)
    except OSError as e:
        raise _naming(e, target) from e
    try:
        os.chmod(name, 0o666 & ~_umask())
    finally:
        os.close(fd)
    return Path(name)


@contextmanager
def temporary_path(target: str | os.PathLike, suffix: str = TEMP_SUFFIX) -> Iterator[Path]:
    """A unique temporary file beside `target`, removed when the block ends if it is still there
    (commit() moves it away)."""
    path = temporary_file(target, suffix)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _naming(error: OSError, target: Path) -> OSError:
    """The same error about `target` itself: the temporary's hidden name means nothing to a user
    (an unwritable folder, a target that is a folder)."""
    if error.errno is None:
        return error
    return OSError(error.errno, error.strerror, str(target))  # OSError() picks the subclass (PermissionError...)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # platforms that cannot open a folder (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def commit(temporary: str | os.PathLike, target: str | os.PathLike, fsync: bool = True) -> Path:
    """Rename a finished temporary file over `target` (after syncing it to disk when `fsync`)."""
    temporary, target = Path(temporary), Path(target)
    if fsync:
        _fsync_file(temporary)
    try:
        os.replace(temporary, target)
    except OSError as e:
        raise _naming(e, target) from e
    if fsync:
        _fsync_folder(target.parent)
    return target


def move(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Rename a file or folder to a new name in one step, never over something that exists."""
    source, target = Path(source), Path(target)
    if os.path.lexists(target):
        raise FileExistsError(errno.EEXIST, "already exists: choose another name", str(target))
    try:
        os.rename(source, target)
    except OSError as e:
        raise _naming(e, target) from e
    _fsync_folder(target.parent)
    return target


@contextmanager
def atomic_path(target: str | os.PathLike, *, fsync: bool = True, suffix: str = TEMP_SUFFIX) -> Iterator[Path]:
    """Yields a temporary path beside `target` for the block to write (and check); when the block
    ends normally the file replaces `target`, when it raises the file is removed and `target` is
    untouched. The parent folder must exist."""
    with temporary_path(target, suffix) as path:
        yield path
        commit(path, target, fsync)


@contextmanager
def atomic_open(target: str | os.PathLike, mode: str = "wb", *, fsync: bool = True,
                **open_kwargs) -> Iterator[IO]:
    """A file object open on a temporary file; it replaces `target` when the block ends normally."""
    if not mode.startswith("w"):
        raise ValueError(f"atomic_open writes a new file: mode must start with 'w', got {mode!r}")
    if "b" not in mode:
        open_kwargs.setdefault("encoding", "utf-8")
    with atomic_path(target, fsync=fsync) as path:
        with open(path, mode, **open_kwargs) as f:
            yield f
            f.flush()


def write_bytes(target: str | os.PathLike, data: bytes, *, fsync: bool = True) -> Path:
    with atomic_open(target, "wb", fsync=fsync) as f:
        f.write(data)
    return Path(target)


def write_text(target: str | os.PathLike, text: str, *, fsync: bool = True, encoding: str = "utf-8") -> Path:
    with atomic_open(target, "w", fsync=fsync, encoding=encoding) as f:
        f.write(text)
    return Path(target)


def write_json(target: str | os.PathLike, obj, *, fsync: bool = True, indent: int | None = 2,
               default=str) -> Path:
    return write_text(target, json.dumps(obj, indent=indent, default=default), fsync=fsync)


def torch_save(obj, target: str | os.PathLike, *, fsync: bool = True) -> Path:
    import torch  # only the writers of tensors need it

    with atomic_open(target, "wb", fsync=fsync) as f:
        torch.save(obj, f)
    return Path(target)


def save_image(image, target: str | os.PathLike, *, fsync: bool = False, format: str | None = None,
               **save_options) -> Path:
    """A PIL image, in the format its target's extension names unless `format` is given (the
    temporary's own name has no telling extension). Grids and GIFs are redrawn, hence no fsync."""
    from PIL import Image

    target = Path(target)
    if format is None:
        format = Image.registered_extensions().get(target.suffix.lower())
        if format is None:
            raise ValueError(f"{target}: no image format for the extension {target.suffix!r}; pass format=")
    with atomic_open(target, "wb", fsync=fsync) as f:
        image.save(f, format=format, **save_options)
    return target


def _writer_pid(path: Path, target: Path) -> int | None:
    rest = path.name[len(target.name) + 2:]
    pid = rest.split(".", 1)[0]
    return int(pid) if pid.isdigit() else None


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    except OSError:  # a platform where signal 0 means nothing: assume it lives
        return True
    return True


def remove_stale_temporaries(target: str | os.PathLike, suffix: str = TEMP_SUFFIX) -> list[Path]:
    """Delete the temporaries of `target` left by processes that no longer exist (killed mid-write);
    those of live processes, this one included, are kept. Returns what was removed."""
    target = Path(target)
    removed = []
    for path in target.parent.glob(f".{glob_escape(target.name)}.*{glob_escape(suffix)}"):
        pid = _writer_pid(path, target)
        if pid is not None and pid != os.getpid() and not _process_alive(pid):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
