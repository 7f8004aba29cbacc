"""Names inside an XLSX (OOXML) package: local tag names without namespace, relationship targets as member
paths. Shared by the header reader and the bounds pre-check."""
from __future__ import annotations

import posixpath


def local(tag: str) -> str:
    """`{namespace}sheet` → `sheet`."""
    return tag.rsplit("}", 1)[-1]


def target(base: str, path: str) -> str:
    """A relationship's target as a member path (absolute, or relative to the part's folder `base`)."""
    return path.lstrip("/") if path.startswith("/") else posixpath.normpath(posixpath.join(base, path))
