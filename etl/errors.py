"""Errors that stop a load before anything is written."""
from __future__ import annotations


class LoadError(Exception):
    """The file cannot be loaded at all (unreadable, wrong layout, missing columns).

    The message names the file and, where known, the sheet, row and column, and what was expected,
    so that the one line the CLI prints is enough to fix the file.
    """

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.file, self.problem, self.sheet, self.row, self.column, self.expected = (
            file, problem, sheet, row, column, expected,
        )
        where = [f"file {file}"]
        if sheet is not None:
            where.append(f"sheet {sheet!r}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        message = f"{', '.join(where)}: {problem}"
        if expected:
            message += f" (expected {expected})"
        super().__init__(message)
