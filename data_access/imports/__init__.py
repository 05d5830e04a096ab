"""Imports as one package: cases (CSV/TSV/Excel/.xls, Open311), boundaries, and what a second table kind
needs. Every format is a reader (readers.py); column mapping, row validation, quarantine, the one-transaction
write, the run log and the data-version bump are shared (pipeline.py)."""
from .pipeline import ImportReport, RowFilter, TableKind, run_import
from .readers import ImportFailed

__all__ = ["ImportFailed", "ImportReport", "RowFilter", "TableKind", "run_import", "import_cases"]


def import_cases(engine, path, *, user: str | None = None, coords: str | None = None,
                 mapping: dict[str, str] | None = None, row_filter: RowFilter | None = None) -> ImportReport:
    """Import one file of cases (see pipeline.run_import): ``coords`` gcj02/bd09 for offset points,
    ``mapping`` {file header: field} for headers no synonym knows, ``row_filter`` to narrow what may land."""
    from .cases import CaseKind
    return run_import(engine, path, CaseKind(), user=user, mapping=mapping, row_filter=row_filter,
                      options={"coords": coords})
