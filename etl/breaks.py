"""Series breaks: which figures are not comparable with the previous period of their series.

Found by comparing what each source code and each bassin meant in consecutive vintages of one series
(`vintage_label` rows): a métier whose code, label or family changes, a job family whose membership changes,
a bassin renamed or redrawn across départements, and the crosswalk's own `break_year`. Pure functions on
frames: the loader stores their result in `series_break`, and every figure of that series, subject and
period then carries the note.
"""
from __future__ import annotations

import re
import unicodedata

import pandas as pd

BREAK_COLUMNS = ["kind", "subject_id", "period", "note"]
# Totals of every occupation stay comparable when the list of métiers changes: no membership break there.
ALL_OCCUPATIONS = frozenset({"ensemble", "autres_metiers"})


def _norm(text: object) -> str:
    """Labels compared without case, accents, punctuation or spacing (« AIN » = « Ain »)."""
    plain = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", plain.casefold()).strip()


def _ancestors(node: str, parent: dict[str, str | None]) -> list[str]:
    out, seen = [], set()
    node = parent.get(node)
    while node and node not in seen and node not in ALL_OCCUPATIONS:
        out.append(node)
        seen.add(node)
        node = parent.get(node)
    return out


def detect(labels: pd.DataFrame, parent: dict[str, str | None], social: set[str],
           crosswalk_breaks: pd.DataFrame | None = None) -> pd.DataFrame:
    """Breaks of one series.

    `labels`: kind, subject_id, code, period, label, scope (every vintage of the series).
    `parent`: profession tree (id → parent id); `social`: professions of the social-work tree, whose
    breaks also mark the groups and filières above them (their totals change scope too).
    `crosswalk_breaks`: profession_id, break_year, break_note from the crosswalk.
    """
    notes: dict[tuple[str, str, int], list[str]] = {}

    def add(kind: str, subject: str, period: int, note: str) -> None:
        bucket = notes.setdefault((kind, subject, int(period)), [])
        if note not in bucket:
            bucket.append(note)

    periods = sorted(int(p) for p in labels["period"].unique()) if len(labels) else []
    previous = dict(zip(periods[1:], periods[:-1]))

    professions = labels[labels["kind"] == "profession"]
    by_period = {p: part for p, part in professions.groupby("period")}
    for period, before in previous.items():
        now, then = by_period.get(period), by_period.get(before)
        if now is None or then is None:
            continue
        now_codes = now.groupby("subject_id")["code"].apply(lambda c: tuple(sorted(c)))
        then_codes = then.groupby("subject_id")["code"].apply(lambda c: tuple(sorted(c)))
        then_rows = then.set_index("code")
        for subject, codes in now_codes.items():
            if subject not in then_codes.index:
                continue
            old_codes = then_codes[subject]
            if codes != old_codes:
                add("profession", subject, period,
                    f"code {', '.join(old_codes)} ({before}) → {', '.join(codes)} ({period})")
            for row in now[now["subject_id"] == subject].itertuples(index=False):
                if row.code not in then_rows.index:
                    continue
                old = then_rows.loc[row.code]
                if _norm(old["label"]) != _norm(row.label):
                    add("profession", subject, period,
                        f"intitulé du métier {row.code} modifié : « {old['label']} » ({before}) → « {row.label} » "
                        f"({period})")
                if _norm(old["scope"]) != _norm(row.scope):
                    add("profession", subject, period,
                        f"famille du métier {row.code} modifiée : {old['scope']} ({before}) → {row.scope} ({period})")
        # Job families of the social-work tree whose membership changes.
        members_now, members_then = _members(now, parent, social), _members(then, parent, social)
        for node in set(members_now) & set(members_then):
            added = sorted(members_now[node] - members_then[node])
            removed = sorted(members_then[node] - members_now[node])
            if added or removed:
                change = "; ".join(part for part in (
                    f"ajout de {', '.join(added)}" if added else "",
                    f"retrait de {', '.join(removed)}" if removed else "") if part)
                add("profession", node, period, f"composition modifiée en {period} : {change}")

    # A social profession's break changes the scope of every total above it.
    for (kind, subject, period), texts in list(notes.items()):
        if kind == "profession" and subject in social:
            for node in _ancestors(subject, parent):
                for text in texts:
                    add("profession", node, period, text)

    if crosswalk_breaks is not None and len(crosswalk_breaks):
        present = {(s, int(p)) for s, p in zip(professions["subject_id"], professions["period"])}
        for row in crosswalk_breaks.dropna(subset=["break_year"]).itertuples(index=False):
            year = int(row.break_year)
            if (row.profession_id, year) in present and year in previous:
                note = row.break_note or f"rupture de nomenclature en {year}"
                for node in [row.profession_id, *_ancestors(row.profession_id, parent)]:
                    add("profession", node, year, note)

    bassins = labels[labels["kind"] == "territory"]
    by_period = {p: part for p, part in bassins.groupby("period")}
    for period, before in previous.items():
        now, then = by_period.get(period), by_period.get(before)
        if now is None or then is None:
            continue
        old_label = dict(zip(then["subject_id"], then["label"]))
        depts_now = now.groupby("code")["scope"].apply(lambda d: tuple(sorted(d)))
        depts_then = then.groupby("code")["scope"].apply(lambda d: tuple(sorted(d)))
        for row in now.itertuples(index=False):
            if row.subject_id in old_label and _norm(old_label[row.subject_id]) != _norm(row.label):
                add("territory", row.subject_id, period,
                    f"bassin renommé : « {old_label[row.subject_id]} » ({before}) → « {row.label} » ({period})")
            if row.code in depts_then.index and depts_then[row.code] != depts_now[row.code]:
                add("territory", row.subject_id, period,
                    f"bassin {row.code} redécoupé : départements {', '.join(depts_then[row.code])} ({before}) → "
                    f"{', '.join(depts_now[row.code])} ({period})")

    return pd.DataFrame([(k, s, p, " ; ".join(t)) for (k, s, p), t in sorted(notes.items())], columns=BREAK_COLUMNS)


def _members(rows: pd.DataFrame, parent: dict[str, str | None], social: set[str]) -> dict[str, set[str]]:
    """Codes below each job family (group, filière, domain) of the social-work tree in one vintage."""
    out: dict[str, set[str]] = {}
    for subject, code in zip(rows["subject_id"], rows["code"]):
        if subject in social:
            for node in _ancestors(subject, parent):
                out.setdefault(node, set()).add(code)
    return out
