"""Errors that stop a load before anything is written, and what each one says, in English and in French.

Every refusal has a code. `TEXTS` holds, for each code, the English problem (what the CLI prints), what was
expected (English) and the French sentence the upload page shows, as `str.format` templates over the same named
parameters. A raise site gives the code and the parameters, `LoadError("missing_column", file, sheet=…, row=1,
role="finess", pattern=…, found=[…])`; rewording one text changes it in one place, and the French message
never depends on the English one.

A rejected row's reason (`Reason`, from `REASONS`) is coded the same way: the store and the CLI keep its English,
the page shows its French.

French templates may use two format specifications of their own: `{role:role}` names a TDBMS column role in
French (`ROLES`), `{n:fr,}` or `{x:fr.1f}` writes a number the French way (narrow no-break space between
thousands, decimal comma).
"""
from __future__ import annotations

import string

from etl import limits
from etl.limits import WHERE


class Text:
    """What one code says: `english` (the problem), `french` (the page's sentence), `expected` (English, optional).
    `refusal`: the file is readable but refused for what it holds (the page says « Fichier refusé »).

    A plain class, not a dataclass: this module is imported before `python -m etl load` starts reading the
    workbook, and `dataclasses` would delay that start."""

    __slots__ = ("english", "french", "expected", "refusal")

    def __init__(self, english: str, french: str, expected: str | None = None, refusal: bool = False) -> None:
        self.english, self.french, self.expected, self.refusal = english, french, expected, refusal


# French labels of the TDBMS column roles (`adapters.tdbms`), for « colonne obligatoire absente : … ».
ROLES = {
    "year": "année", "finess": "n° FINESS", "category": "catégorie ESMS", "departement": "département",
    "recruitments": "nombre de recrutements", "departures": "nombre de départs",
    "headcount": "effectif réel en personnes au 31/12 N-1", "etp_real": "nombre d'ETP réels",
    "etp_budget": "nombre d'ETP budgétés", "etp_done": "nombre d'ETP réalisés",
}

_CSV_FR = "fichier CSV illisible (attendu : texte séparé par des « ; », en UTF-8 ou latin-1)"
_XLSX_FR = "classeur XLSX illisible (fichier tronqué, chiffré ou d'un autre format)"
_LIMIT_FR = "le fichier dépasse une limite de lecture de l'observatoire (taille, lignes, colonnes ou cellules)"
_NO_ROWS_FR = "aucune ligne de données sous l'en-tête"
_OWN = ("one establishment's file, or a group's few establishments; `--scope published` loads a published "
        "extract")
_STORE_FR = " : rien n'a été {nothing}"


def _limit(english: str, expected: str | None = None) -> Text:
    """A bound of etl/limits.py passed: the English names the limit's home, the French says it in one sentence."""
    return Text(f"{english} ({WHERE})", _LIMIT_FR, expected)


def _upload_bound(what: str, french: str) -> Text:
    return Text(f"too many {what} for one's own figures ({{count:,}}; at most {{most:,}}, {WHERE})", french,
                _OWN, refusal=True)


def _store(french: str) -> Text:
    """A fault of the store itself (its sentence comes from `observatory.store`): never blamed on the file."""
    return Text("{problem}", french + _STORE_FR)


TEXTS: dict[str, Text] = {
    # --- reading a file (etl/read/) ---
    "no_such_file": Text("no such file", "le fichier est introuvable"),
    "unreadable_file": Text("cannot read the file: {reason}", "le fichier ne peut pas être lu ({reason})"),
    "empty_file": Text("the file is empty", "le fichier est vide"),
    "not_text": Text("the file is not single-byte or UTF-8 text (NUL bytes: UTF-16 or binary?)", _CSV_FR,
                     "UTF-8 (with or without BOM), cp1252 or latin-1 text"),
    "undecodable": Text("cannot decode the file as text", _CSV_FR, "UTF-8, cp1252 or latin-1"),
    "unreadable_csv": Text("not a readable CSV: {detail}", _CSV_FR),
    "not_zip": Text("not a readable XLSX workbook (not a ZIP container: truncated or another format?)", _XLSX_FR,
                    "an .xlsx workbook"),
    "unreadable_workbook": Text("not a readable XLSX workbook: {detail}", _XLSX_FR),
    "unreadable_member": Text("not a readable XLSX workbook (member {member}: {detail})", _XLSX_FR),
    "encrypted_member": Text("member {member} is encrypted", _XLSX_FR, "an unencrypted .xlsx workbook"),
    "compressed_member": Text("member {member} uses compression method {method}", _XLSX_FR,
                              "deflate or stored members, as spreadsheet programs write"),
    "doctype": Text("member {member} has a DOCTYPE (XML entity declarations: an entity bomb?)",
                    "classeur refusé : il déclare des entités XML (DOCTYPE), ce qu'aucun tableur n'écrit",
                    "a workbook as spreadsheet programs write it, without DOCTYPE"),
    "unreadable_sheet": Text("cannot read the sheet: {detail}", "feuille illisible (classeur abîmé ou d'un autre "
                                                                "format)"),
    "several_columns": Text("several columns match {role!r}: {found}", "plusieurs colonnes pour : {role:role}"),
    "missing_column": Text("missing required column {role!r}", "colonne obligatoire absente : {role:role}",
                           "a header matching {pattern!r}; found {found}"),
    # --- bounds (etl/limits.py) ---
    "file_too_large": _limit("the file is {size:,} bytes: at most {most:,}"),
    "csv_too_large": _limit("the file has {lines:,} lines × {fields:,} fields: at most {max_rows:,} data lines, "
                            "{max_columns:,} fields and {max_cells:,} cells"),
    "table_too_large": _limit("the file has {rows:,} rows × {columns:,} columns: at most {max_rows:,} rows and "
                              "{max_columns:,} columns"),
    "header_too_long": _limit("a header of {chars:,} characters: at most {most:,}"),
    "field_too_long": Text(f"a field of {{chars:,}} characters: at most {{most:,}}, Excel's own limit ({WHERE})",
                           _LIMIT_FR),
    "sheet_too_large": _limit("the sheet {extent}, {cells:,} cells: at most {max_rows:,} rows, {max_columns:,} "
                              "columns and {max_cells:,} cells"),
    "too_many_members": _limit("the workbook has {members:,} members: at most {most:,}"),
    "zip_bomb": _limit("the workbook decompresses to more than {most:,} bytes (reading {member}: a zip bomb?): "
                       "at most {most:,}"),
    "part_too_large": _limit("member {member} is larger than {most:,} bytes"),
    "text_too_long": _limit("a text of {chars:,} characters in {place}: at most {most:,}, Excel's own limit"),
    "run_too_long": _limit("a text of more than {size:,} bytes in {place}: at most {most:,} characters, Excel's "
                           "own limit"),
    # --- recognising and parsing a layout (etl/adapters/) ---
    "unknown_adapter": Text("unknown adapter {name!r}", "format inconnu : {name}", "one of {names}"),
    "unrecognised": Text("no adapter recognises the file", "aucun format connu de l'observatoire ne reconnaît "
                         "ce fichier", "--source one of {names}"),
    "no_data_rows": Text("the file has a header but no data rows", _NO_ROWS_FR),
    "template_no_data_rows": Text("the template has no data rows", _NO_ROWS_FR),
    "not_portrait": Text("not a DARES portrait file", "ce n'est pas un fichier « portrait » de la DARES",
                         "a header among {layouts}"),
    "not_outlook": Text("not a DARES outlook file", "ce n'est pas un fichier de projections de la DARES",
                        "the header of effectifs_3niv, age_2017_2019_3niv, age_agrege_…_restructure, input_carte1 "
                        "or types_sorties"),
    "no_window": Text("the value column {header!r} names no three-year window",
                      "la colonne de valeurs {header} ne nomme pas de période de trois ans",
                      "a header such as annee_2017_2019"),
    "no_bmo_sheet": Text("no BMO data sheet (a header row with annee, Code métier BMO, BE<yy>, Dept, REG, met, "
                         "xmet, smet…)", "aucune feuille de données BMO dans le classeur",
                         "one sheet with the BMO columns; sheets found: {sheets}"),
    "several_bmo_sheets": Text("several BMO data sheets {found}", "plusieurs feuilles de données BMO : {found}",
                               "one sheet with the BMO columns; sheets found: {sheets}"),
    "no_survey_year": Text("no survey year in the annee column", "aucune année d'enquête dans la colonne annee",
                           "a year between {first} and {last}"),
    "no_sheet_rows": Text("the data sheet has no data rows", "la feuille de données n'a aucune ligne"),
    "no_row_loadable": Text("no row is loadable", "aucune ligne utilisable", "see the reasons: {reasons}"),
    "no_drees_table": Text("no sheet has a DREES table (a header row starting with « Diplôme »)",
                           "aucune feuille ne contient de tableau de la DREES", "sheets found: {sheets}"),
    "no_drees_rows": Text("no data row: the tables have their header but no diploma × région row",
                          "les tableaux ont leur en-tête mais aucune ligne diplôme × région",
                          "rows under the header « Diplôme … Région … years »"),
    "repeated_measure": Text("several sheets hold the same measure: {measures}",
                             "plusieurs feuilles contiennent la même mesure : {measures}"),
    "unknown_measure": Text("cannot tell which measure the table holds",
                            "impossible de savoir quelle mesure le tableau contient",
                            "a title naming inscrits, entrants en première année, diplômés or interruptions"),
    "no_year_row": Text("no row of years within the first {most} header rows",
                        "aucune ligne d'années dans les {most} premières lignes d'en-tête",
                        "year headers such as 2023 or « 2024 (p) »"),
    "too_many_header_rows": Text("{count} header rows", "{count} lignes d'en-tête",
                                 "one to {most} header rows"),
    "no_region_column": Text("no région column", "aucune colonne « Région »", "a header « Région »"),
    "no_population_sheet": Text("no year sheet (a sheet named like 2022)", "aucune feuille d'année (nommée 2022…)",
                                "one sheet per year; sheets found: {sheets}"),
    "no_population_header": Text("no population header", "aucun en-tête de population", "{expected}"),
    "no_drees_measure": Text("no sheet holds a measure the catalogue defines (APA, PCH, ASE, staff, foster carers)",
                             "aucune feuille ne contient une mesure du catalogue (APA, PCH, ASE, personnel)",
                             "sheets found: {sheets}"),
    "no_projection_scenario": Text("no projection scenario or table", "scénario ou tableau de projection introuvable",
                                   "{expected}"),
    "no_drees_departement_header": Text("no département header", "aucun en-tête par département", "{expected}"),
    "no_template_sheet": Text("no sheet {name!r} (the template's data sheet)",
                              "pas de feuille « {name} » (celle du modèle de l'observatoire)",
                              "sheets found: {sheets}"),
    "no_absence_column": Text("no absence-day column", "aucune colonne « Nombre de jours d'absence pour … »",
                              "columns « Nombre de jours d'absence pour … » (one per reason)"),
    # --- reference data (etl/reference.py) ---
    "shared_profession": Text("codes of one nomenclature share a profession: {codes}",
                              "des codes d'une même nomenclature partagent une profession : {codes}"),
    "unknown_professions": Text("crosswalk names unknown professions {professions}",
                                "la table de correspondance nomme des professions inconnues : {professions}"),
    # --- loading (etl/loader.py) ---
    "no_loadable_row": Text("no loadable row ({read:,} read, {rejected:,} rejected){why}",
                            "aucune ligne utilisable (voir les lignes écartées ci-dessus)",
                            "at least one valid data row"),
    "unknown_scope": Text("unknown scope {scope!r}", "portée inconnue : {scope}", "published or private"),
    "would_shrink": Text("this file would replace {old:,} published figures of {source} (periods {periods}) by "
                         "{new:,}: fewer than half; refused to protect the store",
                         "ce fichier remplacerait {old:fr,} chiffres publiés par {new:fr,} : moins de la moitié, "
                         "refusé", "the complete file, or `--replace` to replace the vintage anyway"),
    "no_such_load": Text("no such load", "ce chargement n'existe pas", "a load_id from `python -m etl status`"),
    "store_outdated": Text("{problem}", "l'entrepôt a été construit par une version antérieure : il doit être "
                           "reconstruit"),
    # --- the store refused a write (observatory.store's sentence; see `store_error`) ---
    "store_locked": _store("l'entrepôt est occupé par un chargement ; réessayez dans un instant"),
    "store_read_only": _store("l'entrepôt est en lecture seule"),
    "store_missing": _store("l'entrepôt de données est introuvable sur ce serveur (supprimé ou déplacé)"),
    "store_unusable": _store("l'entrepôt ne peut pas être écrit sur ce serveur"),
    # --- own figures (etl/private.py) ---
    "not_upload_format": Text("not a TDBMS extract or template", "format non accepté : un extrait TDBMS (.csv) ou "
                              "le modèle de l'observatoire (.xlsx)", "a .csv extract or the .xlsx template"),
    "upload_too_large": Text("file too large ({size_mb:.1f} MB; at most {most_mb:g} MB)",
                             "fichier trop volumineux ({size_mb:fr.1f} Mo) : {most_mb:frg} Mo au plus"),
    "too_many_rows": _upload_bound(
        "data rows", "{count:fr,} lignes de données ; le fichier d'un établissement (ou d'un groupe) en compte au "
        f"plus {{most:fr,}} ({limits.MAX_UPLOAD_ESTABLISHMENTS} établissements × {limits.MAX_UPLOAD_YEARS} ans) : "
        "déposez l'extrait de votre "
        "établissement, pas un extrait national"),
    "too_many_establishments": _upload_bound(
        "establishments", "{count:fr,} établissements (n° FINESS) ; le fichier d'un établissement (ou d'un groupe) "
        "en compte au plus {most}"),
    "too_many_years": _upload_bound(
        "years", "{count:fr,} années ; le fichier d'un établissement en compte au plus {most}"),
    "too_many_bytes": _upload_bound(
        "decompressed bytes", "classeur trop volumineux une fois décompressé (plus de "
        f"{limits.MAX_UPLOAD_XLSX_DECOMPRESSED_BYTES // 2**20} Mio) ; le modèle rempli "
        "pour un établissement ou un groupe en fait moins de 1 Mio"),
    "private_full": Text(f"the private space is full ({{uploads:,}} uploads, {{figures:,}} figures; at most "
                         f"{{max_uploads:,}} and {{max_figures:,}}, {WHERE})",
                         "l'espace privé de l'observatoire est plein ; réessayez plus tard (les enregistrements de "
                         "plus de {retention_days} jours sont supprimés)"),
    "not_own_figures": Text("a private load holds an establishment's own figures only (adapter {adapter!r} gives "
                            "others)", "ce fichier ne contient pas les chiffres propres d'un établissement",
                            "a TDBMS extract or the template (--source tdbms)"),
}


# Why one row is rejected (the load goes on): the English is stored in `etl_rejection` and printed by the CLI, the
# French shown on the upload page.
REASONS: dict[str, Text] = {
    "bad_finess": Text("expected a 9-character FINESS number (leading zeros may be missing)",
                       "numéro FINESS attendu (9 caractères ; les zéros de tête peuvent manquer)"),
    "unknown_departement": Text("département not in the INSEE reference",
                                "département inconnu du code officiel géographique de l'Insee (attendu : un code de "
                                "département, par exemple 01, 2A, 69 ou 974)"),
    "unknown_category": Text("ESMS category not among the 20 TDBMS categories",
                             "catégorie ESMS hors des 20 catégories du TDBMS (attendu : un code de la feuille "
                             "« Catégories » du modèle, par exemple 500 pour un EHPAD)"),
    "no_year": Text("expected a year", "année attendue (par exemple 2023)"),
    "negative": Text("expected a non-negative number", "nombre positif ou nul attendu"),
    "not_available": Text("no value published ('NA')", "valeur absente (« NA »)"),
    "not_a_number": Text("expected a number (decimal comma or point) or a secret marker",
                         "nombre attendu (virgule ou point décimal)"),
    "non_finite": Text(f"non-finite number (inf, NaN, an overflow, or beyond ±{limits.MAX_ABS_NUMBER:g} or a non-zero "
                       f"magnitude under {limits.MIN_ABS_NUMBER:g}): never stored ({WHERE})",
                       "nombre hors des bornes (infini, « NaN » ou démesuré) : jamais enregistré"),
    "duplicate": Text("duplicate of row {row} (same key)", "doublon de la ligne {row} (même FINESS, même année)"),
}


class _French(string.Formatter):
    """`str.format` with `{role:role}` (French column role) and `{n:fr…}` (a number written the French way)."""

    def format_field(self, value, format_spec: str) -> str:
        if format_spec == "role":
            return ROLES.get(str(value), str(value))
        if format_spec.startswith("fr"):
            return format(value, format_spec[2:]).translate({ord(","): "\u202f", ord("."): ","})
        return super().format_field(value, format_spec)


_FRENCH = _French()


class LoadError(Exception):
    """The file cannot be loaded at all (unreadable, wrong layout, missing columns, out of bounds).

    `str(error)` (`english`) names the file and, where known, the sheet, row and column, and what was expected,
    so that the one line the CLI prints is enough to fix the file; `french` is the page's sentence for the
    same refusal. Both come from `TEXTS[code]` and the named parameters.
    """

    def __init__(self, code: str, file: str, *, sheet: str | None = None, row: int | None = None,
                 column: str | None = None, **params: object) -> None:
        if code not in TEXTS:
            raise ValueError(f"unknown LoadError code {code!r}: add it to etl.errors.TEXTS")
        text = TEXTS[code]
        self.code, self.params = code, params
        self.file, self.sheet, self.row, self.column = file, sheet, row, column
        self.problem = text.english.format(**params)
        self.expected = text.expected.format(**params) if text.expected else None
        where = [f"file {file}"]
        if sheet is not None:
            where.append(f"sheet {sheet!r}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        message = f"{', '.join(where)}: {self.problem}"
        if self.expected:
            message += f" (expected {self.expected})"
        super().__init__(message)

    @property
    def english(self) -> str:
        """The CLI's line (after `error: `)."""
        return str(self)

    @property
    def refusal(self) -> bool:
        """A readable file refused for what it holds (too many rows, establishments…), not an unreadable one."""
        return TEXTS[self.code].refusal

    @property
    def store_fault(self) -> bool:
        """The store refused the write: the user's file is not to blame."""
        return self.code.startswith("store_") and self.code != "store_outdated"

    def french_text(self, **extra: object) -> str:
        """The French sentence; `extra` fills parameters only the French says (`nothing` for a store fault)."""
        return _FRENCH.format(TEXTS[self.code].french, **{"nothing": "enregistré", **self.params, **extra})

    @property
    def french(self) -> str:
        return self.french_text()


class Reason:
    """Why one row is rejected, in both languages; `str()` is the English, what the store keeps."""

    __slots__ = ("code", "english", "french")

    def __init__(self, code: str, english: str, french: str) -> None:
        self.code, self.english, self.french = code, english, french

    def __str__(self) -> str:
        return self.english

    def __repr__(self) -> str:
        return f"Reason({self.code!r}, {self.english!r})"


def reason(code: str, **params: object) -> Reason:
    """The `Reason` of `REASONS[code]` with its parameters."""
    text = REASONS[code]
    return Reason(code, text.english.format(**params), _FRENCH.format(text.french, **params))


# The store's own sentences (`observatory.store.write_problem`, `busy_reason`), by how they begin. The store
# speaks English to its callers; these prefixes are checked against its real sentences in tests/test_errors.py.
STORE_SENTENCES = (("the store is locked", "store_locked"), ("the store is read-only", "store_read_only"),
                   ("the store is missing", "store_missing"))


def store_error(store: str, problem: str) -> LoadError:
    """A `LoadError` for a fault of the store (`problem`: its sentence), coded by what the store says."""
    code = next((code for start, code in STORE_SENTENCES if problem.startswith(start)), "store_unusable")
    return LoadError(code, store, problem=problem)
