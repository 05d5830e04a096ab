"""Importing cases: kept as the old entry point; the pipeline lives in :mod:`data_access.imports`."""
from .imports import ImportFailed, ImportReport, import_cases  # noqa: F401
from .imports.cases import LEVELS, SATISFACTION, STATUS, SYNONYMS  # noqa: F401

#: Accepted headers -> column (kept for callers of the old module).
HEADERS = {h: f for f, names in SYNONYMS.items() for h in names}
