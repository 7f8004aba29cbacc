"""Where things live. One place so the CLI, the app and the tests agree."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
REFERENCE_DIR = DATA_DIR / "reference"
REAL_DIR = DATA_DIR / "real"
DEFAULT_DB_PATH = DATA_DIR / "observatory.sqlite"


def database_url() -> str:
    """The store's SQLAlchemy URL: `OBSERVATORY_DB` when set, else the bundled SQLite file."""
    return os.environ.get("OBSERVATORY_DB") or f"sqlite:///{DEFAULT_DB_PATH}"
