"""Files graybench writes, handled as graybench handles them: the rollback journal of an
interrupted save (read, rolled back), the results lock, durable replacement. Standard library
only, so the Python original (graybench-py) imports it without pandas."""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct

#: The rollback journal graybench keeps beside a results file during a save (src/h5/store.cpp):
#: header magic[16], u64 base_size, u64 created, u64 fnv(header so far); then records
#: u64 offset, u64 length, bytes[length], u64 fnv(offset, length, bytes); native byte order.
JOURNAL_MAGIC = b"graybench-jrnl1\n"
_JOURNAL_HEADER = struct.Struct("=16sQQQ")
_RECORD_HEAD = struct.Struct("=QQ")
_U64 = struct.Struct("=Q")
_FNV_OFFSET, _FNV_PRIME, _MASK64 = 1469598103934665603, 1099511628211, (1 << 64) - 1


def fnv1a(data: bytes, h: int = _FNV_OFFSET) -> int:
    """FNV-1a 64 of `data`, continuing from `h` (the journal's check, as store.cpp computes it)."""
    for b in data:
        h = ((h ^ b) * _FNV_PRIME) & _MASK64
    return h


def journal_path(path: str | os.PathLike) -> str:
    """Where graybench keeps the journal of `path`: beside the file its symlinks lead to."""
    return os.path.realpath(os.fspath(path)) + ".journal"


def journal_header(journal: bytes) -> tuple[int, bool] | None:
    """(base_size, created) of a journal's header; None when the header is torn or not one
    (the save died before changing anything: graybench writes it durably before touching the
    file)."""
    if len(journal) < _JOURNAL_HEADER.size:
        return None
    magic, base, created, check = _JOURNAL_HEADER.unpack_from(journal)
    if magic != JOURNAL_MAGIC or fnv1a(journal[:_JOURNAL_HEADER.size - 8]) != check:
        return None
    return base, bool(created)


def roll_back(fd: int, journal: bytes, base: int) -> int:
    """Puts the file open on `fd` back as of its last committed save, as graybench's
    recover_interrupted_save does: the pre-image of every valid record written back in order,
    up to the first torn or invalid one (its overwrite never happened), then the file cut to
    `base`, its size at that save. Returns the number of records applied."""
    pos, applied = _JOURNAL_HEADER.size, 0
    while pos + _RECORD_HEAD.size <= len(journal):
        offset, length = _RECORD_HEAD.unpack_from(journal, pos)
        if length > base or offset > base - length:
            break  # torn or foreign
        end = pos + _RECORD_HEAD.size + length
        if end + _U64.size > len(journal):
            break  # torn
        if fnv1a(journal[pos:end]) != _U64.unpack_from(journal, end)[0]:
            break
        os.pwrite(fd, journal[pos + _RECORD_HEAD.size:end], offset)
        pos = end + _U64.size
        applied += 1
    os.ftruncate(fd, base)
    return applied


def fsync_dir(path: str | os.PathLike) -> None:
    """fsyncs the directory holding `path`, so a rename or unlink in it is durable."""
    fd = os.open(os.path.dirname(os.path.abspath(os.fspath(path))) or ".",
                 os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_durably(tmp: str, target: str) -> None:
    """Makes the complete file `tmp` the file `target`: fsync, rename over, fsync the directory.
    A crash leaves the old `target` or the new one, never a mix."""
    fd = os.open(tmp, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, target)
    fsync_dir(target)


@contextlib.contextmanager
def results_lock(path: str | os.PathLike):
    """Holds the lock graybench's saves take on the results file `path` (an exclusive flock on
    `<file>.lock` beside the file its symlinks lead to), so a Python tool that writes the file
    never runs beside a graybench save. As graybench does, the lock file is removed on release;
    a lock file replaced or removed while we waited is not the lock any more: try again."""
    lock_path = os.path.realpath(os.fspath(path)) + ".lock"
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held = os.fstat(fd)
            try:
                now = os.stat(lock_path)
            except FileNotFoundError:
                now = None
            if now is not None and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield
    finally:
        if held.st_uid == os.geteuid():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock_path)  # while still held: a waiter then sees it gone and retries
        os.close(fd)


def repair_interrupted_save(path: str | os.PathLike) -> bool:
    """Rolls back, in place, a save of `path` that was interrupted (its journal exists), exactly
    as graybench's recover_interrupted_save does, then removes the journal. The caller holds
    results_lock(path), so no save is live. True when something was rolled back. A tool that
    rewrites a results file must do this first: a journal left beside a file replaced by a
    rename would later "roll back" bytes of the new file."""
    target = os.path.realpath(os.fspath(path))
    jpath = target + ".journal"
    try:
        with open(jpath, "rb") as j:
            journal = j.read()
    except FileNotFoundError:
        return False
    header = journal_header(journal)
    if header is not None:
        base, created = header
        if created:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target)
        else:
            fd = os.open(target, os.O_RDWR | os.O_CLOEXEC)
            try:
                roll_back(fd, journal, base)
                os.fsync(fd)
            finally:
                os.close(fd)
    os.unlink(jpath)
    fsync_dir(target)
    return header is not None
