"""A run's metrics.jsonl as the live view follows it: read incrementally (gan_core.jsonl_tail) and
kept as a DataFrame that only the new rows are appended to, so a refresh of a 60,000-step run costs
the rows written since the last one, not a re-read and re-parse of the whole file.

One MetricsFeed per metrics.jsonl serves every rerun and every tab of the studio (live.feed, a
st.cache_resource); a lock makes the refreshes of concurrent sessions take turns."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pandas as pd

from gan_core.jsonl_tail import JsonlTail
from studio import charts

RECENT = 500  # rows kept as dicts, for the progress bar (training.progress reads the last 50)


class MetricsFeed:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._tail = JsonlTail(self.path, keep_rows=False)
        self._lock = threading.Lock()
        self._frame = pd.DataFrame()
        self._recent: list[dict] = []

    def update(self) -> tuple[pd.DataFrame, list[dict]]:
        """(every row as charts.metrics_frame builds it, the last RECENT rows), after reading what
        was appended since the last update. The frame is replaced, never changed in place: a
        caller may keep the one it got."""
        with self._lock:
            update = self._tail.refresh()
            if update.reset:
                self._frame, self._recent = pd.DataFrame(), []
            if update.rows:
                new = charts.metrics_frame(update.rows)
                self._frame = new if self._frame.empty else pd.concat([self._frame, new])
                self._recent = (self._recent + update.rows)[-RECENT:]
            return self._frame, self._recent

    @property
    def skipped(self) -> int:
        """Damaged lines of metrics.jsonl skipped so far."""
        return self._tail.skipped

    @property
    def error(self) -> str | None:
        """Why the last update could not read the file (its rows so far are kept)."""
        return self._tail.error
