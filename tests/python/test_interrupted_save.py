"""A results file whose last save was killed half-way (docs/schema.md "Crash safety"): the
Python tools read it as of its last committed save without touching it, and
`graybench --repair-results` puts it back in place.

The interrupted state is made exactly as a killed save leaves it: a file with one committed run
is copied, graybench appends a second run to the copy in place, and the journal is built from the
pre-images (the committed bytes) of every range the append overwrote within the old size, with
the old size in its header. graybench's own rollback of that journal must give back the committed
file byte for byte, which also proves that the journal format written here is graybench's.
"""

from __future__ import annotations

import shutil
import struct
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import TOOLS, run

sys.path.insert(0, str(TOOLS))
from graybench_tools import load  # noqa: E402

REPORT = TOOLS / "graybench-report"


def header(base: int, created: bool = False) -> bytes:
    head = load.JOURNAL_MAGIC + struct.pack("=QQ", base, int(created))
    return head + struct.pack("=Q", load.fnv1a(head))


def record(offset: int, data: bytes) -> bytes:
    head = struct.pack("=QQ", offset, len(data)) + data
    return head + struct.pack("=Q", load.fnv1a(head))


def changed_ranges(old: bytes, new: bytes) -> list[tuple[int, int]]:
    """[start, end) of every run of bytes of `old` that `new` changed (within len(old))."""
    a = np.frombuffer(old, dtype=np.uint8)
    b = np.frombuffer(new[:len(old)], dtype=np.uint8)
    diff = np.concatenate(([False], a != b, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(diff))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))


class Interrupted:
    """r.h5 and r.h5.journal as a save killed during its final metadata flush leaves them."""

    def __init__(self, committed: bytes, appended: bytes, directory: Path, *, mid_flush: bool):
        self.committed = committed
        self.path = directory / "r.h5"
        self.journal = Path(str(self.path) + ".journal")
        ranges = changed_ranges(committed, appended)
        assert ranges, "the append overwrote nothing in place: no journal to test"
        state = bytearray(appended)
        journal = header(len(committed))
        if mid_flush:
            # Killed after journaling the first half's pre-images plus one more, whose overwrite
            # (like the rest of the second half's) had not happened yet.
            done = len(ranges) // 2
            for lo, hi in ranges[done:]:
                state[lo:hi] = committed[lo:hi]
            ranges = ranges[:done + 1]
        for lo, hi in ranges:
            journal += record(lo, committed[lo:hi])
        self.path.write_bytes(bytes(state))
        self.journal.write_bytes(journal)
        self.file_bytes = bytes(state)
        self.journal_bytes = journal

    def set_journal(self, data: bytes) -> None:
        self.journal.write_bytes(data)
        self.journal_bytes = data

    def untouched(self) -> bool:
        return (self.path.read_bytes() == self.file_bytes
                and self.journal.read_bytes() == self.journal_bytes)


@pytest.fixture(scope="module")
def saves(build, generate, tmp_path_factory):
    """(committed bytes, the runs load() reads from them, the bytes after a second save)."""
    root = generate("interrupted", count=5, seed=7, sizes="64x48,33x21")
    d = tmp_path_factory.mktemp("saves")
    first, second = d / "first.h5", d / "second.h5"
    run([build.graybench, "--input", root, "--results", first, "-q"])
    shutil.copyfile(first, second)
    run([build.graybench, "--input", root, "--results", second, "--strategy", "threads",
         "--workers", "2", "--repeat", "2", "-q"])
    assert not Path(str(second) + ".journal").exists()
    return first.read_bytes(), load.load(first), second.read_bytes()


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """Where load.py's rolled-back copies go in this test (checked for leftovers)."""
    t = tmp_path / "tmp"
    t.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(t))
    return t


def same_runs(got: load.Results, want: load.Results) -> None:
    assert list(got.runs["run"]) == list(want.runs["run"])
    cols = ["run", "strategy", "workers", "wall_s", "started"]
    assert got.runs[cols].equals(want.runs[cols])
    assert got.images.drop(columns="source").equals(want.images.drop(columns="source"))
    assert got.ranks.drop(columns="source").equals(want.ranks.drop(columns="source"))


@pytest.mark.parametrize("mid_flush", [False, True], ids=["after-flush", "mid-flush"])
def test_load_reads_the_last_committed_save_and_touches_nothing(saves, tmp_path, private_tmp,
                                                                 capsys, mid_flush):
    committed, want, appended = saves
    s = Interrupted(committed, appended, tmp_path, mid_flush=mid_flush)
    res = load.load(s.path)
    assert len(res.runs) == 1
    same_runs(res, want)
    assert s.untouched()
    assert list(private_tmp.iterdir()) == []  # the copy lives only as long as the open handle
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"{s.path}: read as of its last committed save" in err
    assert f"graybench --repair-results {s.path}" in err
    # The handle reads the copy while it is open, and nothing is left once it is closed.
    with load.open_results(s.path) as f:
        assert sorted(f["runs"]) == list(want.runs["run"])
        assert list(private_tmp.iterdir()) == []
    assert s.untouched()


def test_graybench_report_reads_an_interrupted_file(saves, tmp_path):
    committed, want, appended = saves
    s = Interrupted(committed, appended, tmp_path, mid_flush=True)
    r = run([REPORT, s.path, "--csv"])
    assert "read as of its last committed save" in r.stderr
    assert "threads" not in r.stdout  # the interrupted save's runs are not there
    assert "sequential" in r.stdout
    assert s.untouched()


def test_a_torn_or_invalid_record_ends_the_rollback_as_in_graybench(saves, tmp_path,
                                                                    private_tmp):
    committed, want, appended = saves
    s = Interrupted(committed, appended, tmp_path, mid_flush=False)
    # A last record torn by the kill: its overwrite never happened, so it must be ignored
    # (applied, it would wreck the superblock).
    garbage = bytes(range(256)) * 2
    torn = record(0, garbage)[:100]
    s.set_journal(s.journal_bytes + torn)
    same_runs(load.load(s.path), want)
    assert s.untouched()
    # A complete record with a bad check ends the rollback: a valid one after it is not applied.
    bad = bytearray(record(0, garbage))
    bad[-1] ^= 0xFF
    s.set_journal(s.journal_bytes[:-len(torn)] + bytes(bad) + record(0, garbage))
    same_runs(load.load(s.path), want)
    # A record reaching past the committed size is foreign: the rollback ends there too.
    s.set_journal(s.journal_bytes[:-2 * len(bad)] + record(len(committed) - 8, garbage)
                  + record(0, garbage))
    same_runs(load.load(s.path), want)
    assert s.untouched()
    assert list(private_tmp.iterdir()) == []


def test_a_journal_of_a_save_creating_the_file_is_a_clear_error(saves, tmp_path, private_tmp):
    committed, _, appended = saves
    s = Interrupted(committed, appended, tmp_path, mid_flush=False)
    s.set_journal(header(0, created=True))
    with pytest.raises(load.ResultsError, match="no run was ever committed") as e:
        load.load(s.path)
    assert str(s.path) in str(e.value)
    s.path.unlink()  # killed before HDF5 created it: the same answer
    with pytest.raises(load.ResultsError, match="no run was ever committed"):
        load.load(s.path)
    r = run([REPORT, s.path], expect=2)
    assert "no run was ever committed" in r.stderr and str(s.path) in r.stderr
    assert list(private_tmp.iterdir()) == []


def test_a_torn_journal_header_means_nothing_changed_yet(saves, tmp_path, capsys):
    committed, want, _ = saves
    path = tmp_path / "r.h5"
    path.write_bytes(committed)
    journal = Path(str(path) + ".journal")
    journal.write_bytes(header(len(committed))[:20])
    same_runs(load.load(path), want)
    assert capsys.readouterr().err == ""  # the file itself was read: nothing to say
    assert path.read_bytes() == committed and journal.exists()


def test_repair_results_puts_the_committed_file_back_in_place(build, saves, tmp_path):
    committed, want, appended = saves
    s = Interrupted(committed, appended, tmp_path, mid_flush=True)
    r = run([build.graybench, "--repair-results", s.path])
    assert "rolled back an interrupted save" in r.stdout
    assert not s.journal.exists() and not Path(str(s.path) + ".lock").exists()
    assert s.path.read_bytes() == committed  # byte for byte, so the journal format is graybench's
    with h5py.File(s.path, "r") as f:
        assert sorted(f["runs"]) == list(want.runs["run"])
    r = run([build.graybench, "--repair-results", s.path])
    assert "nothing to repair" in r.stdout
    assert s.path.read_bytes() == committed


MERGE = TOOLS / "graybench-merge"
GRAYBENCH_PY = TOOLS / "graybench-py"


def run_names(path: Path) -> list[str]:
    with h5py.File(path, "r") as f:
        return [str(f["runs"][n].attrs["run_uuid"]) for n in sorted(f["runs"])]


def test_merge_reads_an_interrupted_input_and_leaves_it_untouched(saves, tmp_path, private_tmp):
    committed, want, appended = saves
    s = Interrupted(committed, appended, tmp_path, mid_flush=True)
    out = tmp_path / "merged.h5"
    run([MERGE, "-o", out, s.path])
    assert s.untouched()
    assert len(run_names(out)) == len(want.runs)
    assert not list(private_tmp.iterdir())


def test_merge_onto_an_interrupted_output_rolls_it_back_first(saves, build, generate, tmp_path):
    """Its journal must not outlive the file it describes: left beside the merged file, it
    would later 'roll back' bytes of that file (reproduced before this fix: h5py then failed
    with 'addr overflow')."""
    committed, want, appended = saves
    s = Interrupted(committed, appended, tmp_path, mid_flush=False)
    other = tmp_path / "other.h5"
    run([build.graybench, "--input", generate("interrupted", count=5, seed=7,
                                              sizes="64x48,33x21"), "--results", other, "-q"])
    run([MERGE, "-o", s.path, other])
    assert not s.journal.exists()
    assert not Path(str(s.path) + ".lock").exists()
    names = run_names(s.path)
    assert len(names) == len(want.runs) + 1  # the committed run(s) and the other file's
    # graybench opens it, finds nothing to repair, and appends to it.
    r = run([build.graybench, "--repair-results", s.path])
    assert "nothing to repair" in r.stdout + r.stderr
    assert run_names(s.path) == names


def test_graybench_py_appends_to_an_interrupted_file_after_rolling_it_back(saves, generate,
                                                                           tmp_path):
    committed, want, appended = saves
    s = Interrupted(committed, appended, tmp_path, mid_flush=True)
    images = generate("interrupted", count=5, seed=7, sizes="64x48,33x21")
    run([GRAYBENCH_PY, "--input", images, "--results", s.path, "--quiet"])
    assert not s.journal.exists()
    assert not Path(str(s.path) + ".lock").exists()
    got = load.load(s.path)
    assert len(got.runs) == len(want.runs) + 1
    assert list(got.runs["strategy"])[-1] == "py-sequential"
