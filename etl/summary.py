"""What one load did (`LoadSummary`, printed by the CLI) and where a private save is found again (`private_link`).

Below the loader and the private space (both build summaries); imports nothing of the ETL but `frames`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from etl.frames import NOTE

PAGE = "/mon-etablissement"


def private_link(token: str) -> str:
    """The page address that opens a saved upload. The token sits in the fragment (`#cle=`), which browsers
    never send to a server: it stays out of access logs, proxies and `Referer` headers."""
    return f"{PAGE}#cle={token}"


@dataclass
class LoadSummary:
    load_id: int
    adapter: str
    source_id: str
    file_name: str
    file_sha256: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    published: int
    derived: int
    periods: list[int]
    replaced_loads: list[int]
    seconds: float
    first_rejections: list[dict] = field(default_factory=list)
    notes: int = 0  # rows kept with a correction (frames.NOTE), not rejections
    private_token: str | None = None  # a private save (etl/private.py): the only way back to it
    private_upload_id: int | None = None

    def lines(self) -> list[str]:
        if self.private_token:
            return [
                f"{self.file_name} → adapter {self.adapter}, private upload {self.private_upload_id}, "
                f"load {self.load_id}: kept apart from published data",
                f"  rows read {self.rows_read:,} · saved {self.rows_loaded:,} · rejected {self.rows_rejected:,} "
                f"· periods {self.periods}",
                f"  private link: {private_link(self.private_token)}",
                "  keep it: it is the only way back to these figures and to delete them (the store keeps its hash "
                "only)",
                f"  remove: the page's « Supprimer mes données », or `python -m etl unload {self.load_id}`",
            ]
        out = [
            f"{self.file_name} → adapter {self.adapter}, source {self.source_id}, load {self.load_id}",
            f"  rows read {self.rows_read:,} · loaded {self.rows_loaded:,} · rejected {self.rows_rejected:,}",
            f"  observations written {self.published + self.derived:,} "
            f"({self.published:,} published, {self.derived:,} derived) · periods {self.periods}",
        ]
        if self.replaced_loads:
            out.append(f"  replaced earlier load(s) {self.replaced_loads}")
        if self.rows_rejected:
            out.append(f"  rejections: etl_rejection where load_id = {self.load_id}; first ones:")
            out += [f"    row {r['row_number']}, column {r['column_name']!r}, value {r['value']!r}: {r['reason']}"
                    for r in self.first_rejections]
        if self.notes:
            out.append(f"  rows kept with a correction {self.notes:,}: etl_rejection where load_id = {self.load_id} "
                       f"and reason starts with {NOTE!r} (not rejections)")
        out.append(f"  done in {self.seconds:.2f} s")
        return out
