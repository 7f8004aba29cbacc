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


def _consecutive(labels: pd.DataFrame, kind: str, previous: dict[int, int]):
    """(period, previous period, its labels, the previous vintage's labels) for each vintage of `kind` that
    has a previous one."""
    by_period = {p: part for p, part in labels[labels["kind"] == kind].groupby("period")}
    for period, before in previous.items():
        now, then = by_period.get(period), by_period.get(before)
        if now is not None and then is not None:
            yield period, before, now, then


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

    for period, before, now, then in _consecutive(labels, "profession", previous):
        # Plain dicts, not a frame lookup per métier: a series has a few hundred codes per vintage.
        now_rows: dict[str, list[tuple]] = {}
        for row in zip(now["subject_id"], now["code"], now["label"], now["scope"]):
            now_rows.setdefault(row[0], []).append(row)
        then_codes: dict[str, list] = {}
        then_rows: dict[str, tuple] | None = {}
        for subject, code, label, scope in zip(then["subject_id"], then["code"], then["label"], then["scope"]):
            then_codes.setdefault(subject, []).append(code)
            then_rows[code] = (label, scope)
        if len(then_rows) < len(then):  # a code twice in one vintage: the frame lookup below keeps its meaning
            then_rows = None
            then_frame = then.set_index("code")
        for subject in sorted(now_rows):
            if subject not in then_codes:
                continue
            codes, old_codes = tuple(sorted(r[1] for r in now_rows[subject])), tuple(sorted(then_codes[subject]))
            if codes != old_codes:
                add("profession", subject, period,
                    f"code {', '.join(old_codes)} ({before}) → {', '.join(codes)} ({period})")
            for _subject, code, label, scope in now_rows[subject]:
                if then_rows is not None:
                    if code not in then_rows:
                        continue
                    old_label, old_scope = then_rows[code]
                else:
                    if code not in then_frame.index:
                        continue
                    old = then_frame.loc[code]
                    old_label, old_scope = old["label"], old["scope"]
                if _norm(old_label) != _norm(label):
                    add("profession", subject, period,
                        f"intitulé du métier {code} modifié : « {old_label} » ({before}) → « {label} » "
                        f"({period})")
                if _norm(old_scope) != _norm(scope):
                    add("profession", subject, period,
                        f"famille du métier {code} modifiée : {old_scope} ({before}) → {scope} ({period})")
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
        professions = labels[labels["kind"] == "profession"]
        present = {(s, int(p)) for s, p in zip(professions["subject_id"], professions["period"])}
        for row in crosswalk_breaks.dropna(subset=["break_year"]).itertuples(index=False):
            year = int(row.break_year)
            if (row.profession_id, year) in present and year in previous:
                note = row.break_note or f"rupture de nomenclature en {year}"
                for node in [row.profession_id, *_ancestors(row.profession_id, parent)]:
                    add("profession", node, year, note)

    for period, before, now, then in _consecutive(labels, "territory", previous):
        old_label = dict(zip(then["subject_id"], then["label"]))
        depts_now, depts_then = _grouped(now["code"], now["scope"]), _grouped(then["code"], then["scope"])
        for subject, code, label in zip(now["subject_id"], now["code"], now["label"]):
            if subject in old_label and _norm(old_label[subject]) != _norm(label):
                add("territory", subject, period,
                    f"bassin renommé : « {old_label[subject]} » ({before}) → « {label} » ({period})")
            if code in depts_then and depts_then[code] != depts_now[code]:
                add("territory", subject, period,
                    f"bassin {code} redécoupé : départements {', '.join(depts_then[code])} ({before}) → "
                    f"{', '.join(depts_now[code])} ({period})")

    return pd.DataFrame([(k, s, p, " ; ".join(t)) for (k, s, p), t in sorted(notes.items())], columns=BREAK_COLUMNS)


def _grouped(keys: pd.Series, values: pd.Series) -> dict:
    """Key → its distinct values, sorted, as a tuple (two bassins sharing a code in one département: once)."""
    out: dict = {}
    for key, value in zip(keys, values):
        out.setdefault(key, set()).add(value)
    return {key: tuple(sorted(group)) for key, group in out.items()}


def _members(rows: pd.DataFrame, parent: dict[str, str | None], social: set[str]) -> dict[str, set[str]]:
    """Codes below each job family (group, filière, domain) of the social-work tree in one vintage."""
    out: dict[str, set[str]] = {}
    for subject, code in zip(rows["subject_id"], rows["code"]):
        if subject in social:
            for node in _ancestors(subject, parent):
                out.setdefault(node, set()).add(code)
    return out
