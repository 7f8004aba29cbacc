"""What every reader checks first: the file's size on disk (bound and reason in etl/limits.py), and the identity
of a file on disk (`file_stamp`), by which checks and read-ahead results are remembered."""
from __future__ import annotations

import os
from pathlib import Path

from etl import limits
from etl.errors import LoadError


def file_stamp(path: Path) -> tuple[str, int, int] | None:
    """(resolved path, size, modification time): a file not modified since gives the same stamp."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns


def check_file_size(path: Path) -> int:
    """The size of `path`; a `LoadError` when it passes `MAX_FILE_BYTES` (checked before anything is read)."""
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        raise LoadError("unreadable_file", Path(path).name, reason=exc.strerror) from exc
    if size > limits.MAX_FILE_BYTES:
        raise LoadError("file_too_large", Path(path).name, size=size, most=limits.MAX_FILE_BYTES)
    return size
