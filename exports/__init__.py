"""Staff exports (Excel/CSV) of filtered tables: masking and formula defusal, then streaming writers.

The usual pipeline, chunk by chunk so that 500,000 rows stay in bounded memory::

    chunks = (sanitize_frame(df, PERSONAL, unmask=can_see_personal) for df in query_chunks())
    write_xlsx(chunks, columns, path, sheet_name="事件明细", meta=[("地区", "丽水市"), ...])
"""
from exports.safety import (
    defuse_formula,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_text,
    sanitize_frame,
)
from exports.writers import (
    ColumnSpec,
    ExportTooLarge,
    export_filename,
    write_csv,
    write_xlsx,
)

__all__ = [
    "ColumnSpec", "ExportTooLarge", "defuse_formula", "export_filename", "mask_id_number",
    "mask_name", "mask_phone", "mask_text", "sanitize_frame", "write_csv", "write_xlsx",
]
