"""Read-ahead: one workbook parsed by calamine in a background thread while `python -m etl load` imports pandas
and SQLAlchemy and opens the store; `open_workbook` takes its result (`take`)."""
from __future__ import annotations

import threading
from pathlib import Path

from etl.errors import LoadError
from etl.read.files import file_stamp
from etl.read.zipsafe import check_workbook


class _ReadAhead:
    """Every sheet of one workbook, parsed by calamine in a background thread (it releases the GIL while
    it parses, so the thread runs alongside imports and the store's set-up). The bounds are checked first
    (`check_workbook`): a workbook out of bounds is never handed to calamine, its `LoadError` is the result."""

    def __init__(self, path: Path):
        self.path = path
        self.book: _ReadWorkbook | LoadError | None = None
        self.thread = threading.Thread(target=self._read, name=f"read-ahead {path.name}", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            check_workbook(self.path)
        except LoadError as error:
            self.book = error
            return
        except Exception:  # noqa: BLE001 — a damaged file: `open_workbook` checks it again and says what is wrong
            self.book = None
            return
        try:
            from python_calamine import CalamineWorkbook

            book = CalamineWorkbook.from_path(str(self.path))
            self.book = _ReadWorkbook(book, {name: book.get_sheet_by_name(name) for name in book.sheet_names})
        except Exception:  # a damaged file: `open_workbook` reads it again and reports what is wrong
            self.book = None

    def result(self) -> _ReadWorkbook | LoadError | None:
        self.thread.join()
        return self.book


class _ReadWorkbook:
    """A calamine workbook whose sheets are already parsed (the same `sheet_names` and `get_sheet_by_name`)."""

    def __init__(self, book, sheets: dict):
        self._book, self._sheets = book, sheets
        self.sheet_names = book.sheet_names

    def get_sheet_by_name(self, name: str):
        sheet = self._sheets.pop(name, None)  # handed out once: a second request parses it again
        return sheet if sheet is not None else self._book.get_sheet_by_name(name)


_ahead: dict[tuple[str, int, int], _ReadAhead] = {}


def read_ahead(path: Path | str) -> None:
    """Start parsing the workbook at `path` in the background; the next `open_workbook` of the same file (not
    modified since) gets its sheets. Used by `python -m etl load`, which then imports pandas and SQLAlchemy
    and opens the store while the sheets are read. Nothing happens for a file that is not there."""
    path = Path(path)
    stamp = file_stamp(path)
    if stamp is not None and path.is_file():
        _ahead.clear()  # one workbook at a time
        _ahead[stamp] = _ReadAhead(path)



def take(path: Path) -> _ReadWorkbook | LoadError | None:
    """What the read-ahead of this very file (same size and modification time) found, waiting for it; None when
    none was started (or it could not read the file)."""
    ahead = _ahead.pop(file_stamp(path), None)
    return None if ahead is None else ahead.result()
