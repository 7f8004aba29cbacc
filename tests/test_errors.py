"""`LoadError` codes: every code has its English and French texts, every raise site in `etl/` uses a known code
with the parameters its texts need, and the store's own sentences are told apart by their code. Rejection
reasons (`REASONS`) likewise: both texts, known codes, and the page's French taken from them, not from the
English."""
from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from etl.errors import REASONS, TEXTS, LoadError, reason, store_error
from etl.frames import Rejections
from etl.uploads import rejection_messages
from observatory.store import busy_reason

ROOT = Path(__file__).resolve().parent.parent
LOCATION = {"sheet", "row", "column"}
# Functions that take a code first and hand it to `LoadError`, with the parameter names they fill themselves.
FORWARDERS = {"LoadError": set(), "refuse_beyond": {"count", "most"}}


def fields(template: str | None) -> set[str]:
    """The named parameters a `str.format` template uses."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template or "") if name}


def raise_sites(names) -> list[tuple[str, int, ast.Call]]:
    """(file, line, call) of every call of one of `names` in etl/**."""
    sites = []
    for path in sorted((ROOT / "etl").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names:
                sites.append((str(path.relative_to(ROOT)), node.lineno, node))
    return sites


SITES = raise_sites(FORWARDERS)
REASON_SITES = raise_sites({"reason"})


def codes_of(node: ast.expr) -> set:
    """The codes a call's first argument may be: a literal, or either branch of a conditional."""
    if isinstance(node, ast.IfExp):
        return codes_of(node.body) | codes_of(node.orelse)
    return {node.value if isinstance(node, ast.Constant) else None}


@pytest.mark.parametrize("code", sorted(TEXTS))
def test_every_code_has_both_texts_and_formats_in_both_languages(code):
    text = TEXTS[code]
    assert text.english.strip() and text.french.strip()
    params = {name: 1 for name in fields(text.english) | fields(text.french) | fields(text.expected)}
    error = LoadError(code, "f.csv", **params)
    assert str(error).startswith("file f.csv: ") and error.english == str(error)
    assert error.french and "{" not in error.french
    assert fields(text.french) - fields(text.english) - fields(text.expected) <= {"nothing", "retention_days"}


@pytest.mark.parametrize("site", SITES, ids=lambda s: f"{s[0]}:{s[1]}")
def test_every_raise_site_uses_a_known_code_with_its_parameters(site):
    file, line, call = site
    first = call.args[0] if call.args else None
    if isinstance(first, ast.Name):  # a forwarder passing its own `code` on
        assert first.id == "code", f"{file}:{line}"
        return
    codes = codes_of(first)
    assert codes <= set(TEXTS), f"{file}:{line}: unknown code {codes - set(TEXTS)}"
    if any(k.arg is None for k in call.keywords):  # **params forwarded
        return
    given = {k.arg for k in call.keywords} - LOCATION | FORWARDERS[call.func.id]
    for code in codes:
        text = TEXTS[code]
        needed = fields(text.english) | fields(text.expected) | fields(text.french) - {"nothing"}
        assert needed <= given, f"{file}:{line}: {code} lacks {sorted(needed - given)}"


def test_every_code_is_raised_somewhere():
    used = set().union(*(codes_of(c.args[0]) for _, _, c in SITES if c.args))
    store = {code for code in TEXTS if code.startswith("store_") and code != "store_outdated"}  # by `store_error`
    assert set(TEXTS) - used - store == set()


def test_an_unknown_code_is_refused():
    with pytest.raises(ValueError, match="unknown LoadError code"):
        LoadError("no_such_code", "f.csv")


def test_the_english_line_and_the_french_sentence_come_from_the_same_parameters():
    error = LoadError("missing_column", "extrait.csv", sheet="Données", row=1, role="departures", pattern="dep.*",
                      found=["annee"])
    assert str(error) == ("file extrait.csv, sheet 'Données', row 1: missing required column 'departures' "
                          "(expected a header matching 'dep.*'; found ['annee'])")
    assert error.french == "colonne obligatoire absente : nombre de départs"
    big = LoadError("too_many_rows", "national.csv", count=19_000, most=500)
    assert big.refusal and big.french.startswith("19\u202f000 lignes de données")
    assert "too many data rows for one's own figures (19,000; at most 500, limit in etl/limits.py)" in str(big)


@pytest.mark.parametrize(("sentence", "code"), [
    (busy_reason(OperationalError("BEGIN", {}, Exception("database is locked"))), "store_locked"),
    (busy_reason(OperationalError("BEGIN", {}, Exception("attempt to write a readonly database"))),
     "store_read_only"),
    (busy_reason(OperationalError("BEGIN", {}, Exception("disk I/O error"))), "store_unusable"),
    ("the store is missing: its file was deleted or moved", "store_missing"),
])
def test_the_stores_sentences_get_their_code(sentence, code):
    """`observatory.store` speaks English; its sentences are coded by how they begin (`STORE_SENTENCES`): a
    rewording there fails here rather than degrading the page's French."""
    error = store_error("(entrepôt)", sentence)
    assert error.code == code and error.store_fault and str(error) == f"file (entrepôt): {sentence}"
    assert error.french_text(nothing="supprimé").endswith(" : rien n'a été supprimé")


@pytest.mark.parametrize("code", sorted(REASONS))
def test_every_rejection_reason_has_both_texts(code):
    params = {name: 7 for name in fields(REASONS[code].english) | fields(REASONS[code].french)}
    said = reason(code, **params)
    assert str(said) == said.english and said.english.strip() and said.french.strip() and "{" not in said.french


def test_every_reason_site_uses_a_known_code_and_every_reason_is_used():
    codes = {c.args[0].value for _, _, c in REASON_SITES if c.args and isinstance(c.args[0], ast.Constant)}
    assert len(codes) == len(REASON_SITES) and codes == set(REASONS)


def test_the_pages_french_for_a_rejection_comes_from_the_table():
    """The store keeps the English (`reason`), the page says the French; a reason written as plain text (other
    adapters) is shown as written."""
    reject = Rejections()
    reject.add([3, 4], "n° FINESS", ["12", "750000001"], [reason("bad_finess"), reason("duplicate", row=2)])
    reject.add([5], "Code", ["Z9Z"], "FAP code not in the FAP reference")
    frame = reject.frame()
    assert frame["reason"].tolist() == ["expected a 9-character FINESS number (leading zeros may be missing)",
                                        "duplicate of row 2 (same key)", "FAP code not in the FAP reference"]
    assert rejection_messages(frame) == [
        "Ligne 3, colonne « n° FINESS », valeur « 12 » : numéro FINESS attendu (9 caractères ; les zéros de tête "
        "peuvent manquer).",
        "Ligne 4, colonne « n° FINESS », valeur « 750000001 » : doublon de la ligne 2 (même FINESS, même année).",
        "Ligne 5, colonne « Code », valeur « Z9Z » : FAP code not in the FAP reference."]
