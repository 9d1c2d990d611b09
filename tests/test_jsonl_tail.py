"""gan_core.jsonl_tail on real files: appends, a torn last line completed later, a file truncated,
replaced or rewritten, damaged lines; always equal to a full read (gan_core.runs.read_jsonl_checked)."""
import json
import os
import threading

import pytest

from gan_core import atomic
from gan_core.jsonl_tail import JsonlTail, parse_line
from gan_core.runs import read_jsonl_checked, truncate_jsonl


def line(step: int) -> str:
    return json.dumps({"step": step, "loss_G": 1.0 / step}) + "\n"


def append(path, text: str | bytes) -> None:
    with open(path, "ab") as f:
        f.write(text.encode() if isinstance(text, str) else text)


def assert_as_full_read(tail: JsonlTail) -> None:
    full, got = read_jsonl_checked(tail.path), tail.contents()
    assert (got.rows, got.skipped, got.error) == (full.rows, full.skipped, full.error)


def steps(rows) -> list[int]:
    return [r["step"] for r in rows]


def test_only_appended_rows_are_read(tmp_path):
    path = tmp_path / "metrics.jsonl"
    tail = JsonlTail(path)
    assert tail.refresh().rows == [] and tail.contents().rows == []  # no file yet
    path.write_text("".join(line(s) for s in range(1, 4)))
    first = tail.refresh()
    assert steps(first.rows) == [1, 2, 3] and first.reset  # the first read is all of it
    assert_as_full_read(tail)
    assert tail.refresh().rows == []  # nothing appended
    append(path, line(4) + line(5))
    update = tail.refresh()
    assert steps(update.rows) == [4, 5] and not update.reset
    assert steps(tail.rows) == [1, 2, 3, 4, 5]
    assert_as_full_read(tail)


def test_nothing_changed_costs_one_stat(tmp_path, monkeypatch):
    path = tmp_path / "metrics.jsonl"
    path.write_text(line(1))
    tail = JsonlTail(path)
    tail.refresh()
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    assert tail.refresh().rows == [] and opened == []


def test_a_torn_last_line_waits_for_its_newline(tmp_path):
    path = tmp_path / "metrics.jsonl"
    whole = line(2)
    path.write_text(line(1) + whole[:10])
    tail = JsonlTail(path)
    assert steps(tail.refresh().rows) == [1]
    assert tail.skipped == 0  # torn: not damaged
    assert_as_full_read(tail)
    append(path, whole[10:-1])  # the whole object, still without its newline
    assert tail.refresh().rows == []
    assert_as_full_read(tail)  # a full read takes the unterminated object: contents() does too
    assert steps(tail.rows) == [1]
    append(path, "\n" + line(3))
    assert steps(tail.refresh().rows) == [2, 3] and tail.skipped == 0
    assert_as_full_read(tail)


@pytest.mark.parametrize("how", ["atomic replace (resume)", "truncate in place", "rewrite in place"])
def test_a_shrunk_or_replaced_file_is_read_again(tmp_path, how):
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(line(s) for s in range(1, 11)))
    tail = JsonlTail(path)
    tail.refresh()
    if how == "atomic replace (resume)":
        truncate_jsonl(path, 4)  # a resume from the checkpoint of step 4, as the trainer does it
        append(path, line(5))
        expected = [1, 2, 3, 4, 5]
    elif how == "truncate in place":
        with open(path, "r+b") as f:
            f.truncate(len(line(1)) + len(line(2)))
        expected = [1, 2]
    else:  # same inode, grown: only the bytes before the read position tell
        before = os.stat(path).st_ino
        with open(path, "wb") as f:
            f.write("".join(line(s) for s in range(100, 112)).encode())
        assert os.stat(path).st_ino == before
        expected = list(range(100, 112))
    update = tail.refresh()
    assert update.reset and steps(update.rows) == expected
    assert steps(tail.rows) == expected
    assert_as_full_read(tail)
    append(path, line(200))
    assert steps(tail.refresh().rows) == [200] and not tail.refresh().reset
    assert_as_full_read(tail)


def test_a_replaced_file_of_the_same_size_is_noticed(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1}\n{"step": 2}\n')
    tail = JsonlTail(path)
    tail.refresh()
    atomic.write_text(path, '{"step": 3}\n{"step": 4}\n')  # new inode, same length
    assert os.path.getsize(path) == 24
    update = tail.refresh()
    assert update.reset and steps(update.rows) == [3, 4]
    assert_as_full_read(tail)


def test_a_removed_file_empties_the_reader(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(line(1))
    tail = JsonlTail(path)
    tail.refresh()
    path.unlink()
    update = tail.refresh()
    assert update.reset and update.rows == [] and tail.rows == []
    assert_as_full_read(tail)


def test_damaged_lines_are_skipped_and_counted_like_a_full_read(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(line(1) + "{not json\n" + "\n" + "[1, 2]\n")
    tail = JsonlTail(path)
    update = tail.refresh()
    assert steps(update.rows) == [1] and update.skipped == 2 and tail.skipped == 2
    assert_as_full_read(tail)
    append(path, b"\xff\xfe garbage\n" + line(2).encode())  # not UTF-8
    update = tail.refresh()
    assert steps(update.rows) == [2] and update.skipped == 1 and tail.skipped == 3
    assert_as_full_read(tail)
    assert tail.contents().note("metrics.jsonl") == "metrics.jsonl: 3 unreadable line(s) skipped"


def test_parse_line_is_read_jsonl_checkeds_rule():
    assert parse_line(b'{"step": 1}\n') == ({"step": 1}, False)
    assert parse_line(b'{"step": 1}') == ({"step": 1}, False)  # an unterminated last object still reads
    assert parse_line(b"  \n") == (None, False)
    assert parse_line(b'{"step": 1, "lo') == (None, False)  # torn: not counted
    assert parse_line(b'{"step": 1, "lo\n') == (None, True)  # damaged
    assert parse_line(b"3\n") == (None, True)  # JSON, not an object


def test_chunked_growth_equals_a_full_read(tmp_path, monkeypatch):
    """Bytes appended in arbitrary pieces (lines split anywhere, chunks smaller than a line) read as
    the whole file does."""
    monkeypatch.setattr("gan_core.jsonl_tail.CHUNK", 7)
    path = tmp_path / "metrics.jsonl"
    text = "".join(line(s) for s in range(1, 40)).encode() + b"oops\n" + line(40).encode()
    tail, got = JsonlTail(path), []
    cut = 0
    for size in [1, 5, 13, 2, 50, 3, 100, 17, 400, 9999]:
        append(path, text[cut:cut + size])
        cut += size
        got += tail.refresh().rows
        assert_as_full_read(tail)
    assert got == read_jsonl_checked(path).rows and tail.skipped == 1


def test_concurrent_refreshes_hand_out_each_row_once(tmp_path):
    path = tmp_path / "metrics.jsonl"
    tail, seen, stop = JsonlTail(path, keep_rows=False), [], threading.Event()

    def watch():
        while not stop.is_set():
            seen.extend(tail.refresh().rows)

    threads = [threading.Thread(target=watch) for _ in range(3)]
    for t in threads:
        t.start()
    for s in range(1, 301):
        append(path, line(s))
    stop.set()
    for t in threads:
        t.join()
    seen.extend(tail.refresh().rows)
    assert sorted(steps(seen)) == list(range(1, 301)) and tail.rows == []
