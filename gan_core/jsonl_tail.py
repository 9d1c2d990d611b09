"""A JSON-lines file read as it grows: each refresh reads only the bytes appended since the last
one (a single stat when nothing changed), for views that follow a run's metrics.jsonl while it is
written, where re-reading a 60,000-row file every two seconds costs most of a second of CPU.

Lines are read as gan_core.runs.read_jsonl_checked reads them (`parse_line` is the one rule): a
blank line is nothing, a complete line that is not a JSON object is skipped and counted, and a last
line without its newline yet (the writer is between write and flush, or was killed mid-write) is
kept back and parsed once the rest of it has arrived. A file that shrank, was replaced (a resume
truncates metrics.jsonl by an atomic rename: a new inode) or was rewritten in place (the bytes
before the read position changed) is read again from its start, and the refresh says so (`reset`),
so a consumer drops what it built from the old rows.

    tail = JsonlTail(run.metrics_path)
    update = tail.refresh()      # the first call reads the whole file
    update.reset, update.rows    # True, every row; later: False, the rows appended since
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

CHUNK = 8 << 20  # bytes read at a time (a first read of a long run's file)
ANCHOR = 64      # bytes before the read position re-read to notice a file rewritten in place


def parse_line(raw: bytes) -> tuple[dict | None, bool]:
    """One line of a JSON-lines file, as read in binary mode (newline included when there is one):
    (the row, False) for a JSON object; (None, True) for a damaged complete line (counted as
    skipped); (None, False) for a blank line or a torn last line without its newline (ignored)."""
    line = raw.strip()
    if not line:
        return None, False
    try:
        row = json.loads(line)
    except ValueError:  # bad JSON, or bytes that are not UTF-8
        row = None
    if isinstance(row, dict):
        return row, False
    return None, raw.endswith(b"\n")


@dataclass
class TailUpdate:
    rows: list[dict] = field(default_factory=list)  # complete rows new since the last refresh
    reset: bool = False  # the file was read again from its start: `rows` are all of it, drop older ones
    skipped: int = 0     # damaged lines among the new ones


class JsonlTail:
    """Follows one JSON-lines file. Thread-safe: one instance may serve several readers (the
    studio's tabs), each refresh handing its new rows to the caller that made it.

    keep_rows: also keep every row (`rows`, `contents()`); a consumer that builds its own table
    from the updates passes False and keeps only the byte position."""

    def __init__(self, path: str | os.PathLike, keep_rows: bool = True):
        self.path = Path(path)
        self.keep_rows = keep_rows
        self.rows: list[dict] = []
        self.skipped = 0             # damaged complete lines so far
        self.error: str | None = None  # why the last refresh could not read the file
        self._lock = threading.Lock()
        self._stat: tuple | None = None  # (dev, inode, size, mtime_ns) at the last read
        self._offset = 0                 # bytes consumed (complete lines and the held-back tail)
        self._torn = b""                 # the last line, without its newline yet
        self._anchor = b""               # the ANCHOR bytes before _offset, as read

    def refresh(self) -> TailUpdate:
        with self._lock:
            return self._refresh()

    def contents(self):
        """What read_jsonl_checked(path) returned at the last refresh (keep_rows=True): the rows,
        with a torn last line that already parses as an object, and the count of damaged lines."""
        from gan_core.runs import JsonlContents  # runs may use parse_line: imported here, not at the top

        with self._lock:
            tail_row = parse_line(self._torn)[0]
            return JsonlContents(self.rows + ([tail_row] if tail_row is not None else []), self.skipped, self.error)

    # --- internals -------------------------------------------------------------------------------
    def _restart(self) -> None:
        self.rows, self.skipped, self._stat, self._offset, self._torn, self._anchor = [], 0, None, 0, b"", b""

    def _refresh(self) -> TailUpdate:
        had_any = self._offset > 0
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self.error = None
            self._restart()
            return TailUpdate(reset=had_any)
        except OSError as e:
            self.error = f"{type(e).__name__}: {e.strerror or e}"
            return TailUpdate()
        stat = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        if stat == self._stat:
            return TailUpdate()  # nothing changed: one stat
        same_file = self._stat is not None and self._stat[:2] == stat[:2] and st.st_size >= self._offset
        reset = not same_file
        try:
            with open(self.path, "rb") as f:
                reset = reset or not self._anchor_holds(f)
                if reset:
                    self._restart()
                    f.seek(0)
                update = self._read(f, st.st_size)
        except FileNotFoundError:  # removed between the stat and the open
            self.error = None
            self._restart()
            return TailUpdate(reset=had_any)
        except OSError as e:  # the position is kept (or, after a restart, back at 0): the next refresh retries
            self.error = f"{type(e).__name__}: {e.strerror or e}"
            return TailUpdate(reset=reset and had_any)
        self.error = None
        self._stat = stat
        update.reset = reset and (had_any or bool(update.rows))
        return update

    def _anchor_holds(self, f) -> bool:
        """Whether the bytes before the read position are those read there (else the file was
        rewritten, and everything is read again); leaves f at the read position."""
        f.seek(self._offset - len(self._anchor))
        return f.read(len(self._anchor)) == self._anchor

    def _read(self, f, size: int) -> TailUpdate:
        """Reads from the read position up to `size`; the position moves only once all of it has
        been read (an error midway leaves the reader as it was, for the next refresh to retry)."""
        update, offset, torn, anchor = TailUpdate(), self._offset, self._torn, self._anchor
        while offset < size:
            chunk = f.read(min(CHUNK, size - offset))
            if not chunk:
                break  # shorter than its stat said (truncated meanwhile): the next refresh sees it
            offset += len(chunk)
            anchor = (anchor + chunk)[-ANCHOR:]
            lines = (torn + chunk).split(b"\n")
            torn = lines.pop()  # after the last newline: b"" or a line still being written
            for line in lines:
                try:  # the fast path of parse_line: a line that parses as it is parses the same stripped
                    row = json.loads(line)
                except ValueError:
                    row = None
                if not isinstance(row, dict):
                    row, damaged = parse_line(line + b"\n")
                    update.skipped += damaged
                if row is not None:
                    update.rows.append(row)
        self._offset, self._torn, self._anchor = offset, torn, anchor
        self.skipped += update.skipped
        if self.keep_rows:
            self.rows.extend(update.rows)
        return update
