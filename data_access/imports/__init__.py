"""Imports as one package: cases (CSV/TSV/Excel/.xls, Open311), boundaries, and what a second table kind
needs. Every format is a reader (readers.py); column mapping, row validation, quarantine, the one-transaction
write, the run log and the data-version bump are shared (pipeline.py)."""
from .pipeline import ImportReport, RowFilter, TableKind, run_import
from .readers import ImportFailed

__all__ = ["ImportFailed", "ImportReport", "RowFilter", "TableKind", "run_import", "import_cases"]


def import_cases(engine, path, *, user: str | None = None, coords: str | None = None,
                 mapping: dict[str, str] | None = None, row_filter: RowFilter | None = None,
                 scope=None) -> ImportReport:
    """Import one file of cases (see pipeline.run_import): ``coords`` gcj02/bd09 for offset points,
    ``mapping`` {file header: field} for headers no synonym knows, ``row_filter`` to narrow what may land.
    ``scope`` (data_access.scope.Scope): the importer's region; rows outside it are quarantined with the reason,
    and the run is on record under the scope's user."""
    from .cases import CaseKind
    if scope is not None:
        from ..scope import row_filter as scope_filter
        user = user or scope.user
        row_filter = _both(row_filter, scope_filter(scope, "grid_code"))
    return run_import(engine, path, CaseKind(), user=user, mapping=mapping, row_filter=row_filter,
                      options={"coords": coords})


def _both(first: RowFilter | None, second: RowFilter) -> RowFilter:
    """Two row filters as one: the first reason that applies."""
    if first is None:
        return second

    def reasons(df):
        a = first(df).reindex(df.index).fillna("").astype(str)
        return a.where(a != "", second(df).reindex(df.index).fillna("").astype(str))
    return reasons
