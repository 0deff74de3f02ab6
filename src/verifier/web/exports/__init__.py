"""The working lists as Excel workbooks, in the words the pages use: notices with their households, payment batches
and their items, a sampling round's samples, audit entries.

Each export reads through its stage's service with the caller's filters and counties (a batch or round of another
county does not exist for them), masks as the page does (bank accounts keep their last four digits; names on a
notice as posted), and is written by documents/sheets.py (Chinese headers, formula-like text escaped, money as
numbers with two decimals). The pages link to them (`/notices/export.xlsx`, …) and the API serves the same files to
a bearer token (`ExportController`); see README, "Excel exports".

One module a workbook (`notices`, `batches`, `samples`, `audit`; `rows` what they share) and `responses`, the
answers and the API's controller; their public names are this package's.
"""

from __future__ import annotations

from .audit import audit_actions, audit_xlsx, day_bounds
from .batches import ITEM_HEADER, ITEM_WIDTHS, batch_items_xlsx, batches_xlsx
from .notices import notices_xlsx
from .responses import (
    BATCH_STATUS,
    NOTICE_STATUS,
    ROUTES,
    SAMPLING_READERS,
    ExportController,
    audit_response,
    batch_items_response,
    batches_response,
    notices_response,
    samples_response,
    xlsx_response,
)
from .rows import MAX_ROWS
from .samples import samples_xlsx

__all__ = ["BATCH_STATUS", "ITEM_HEADER", "ITEM_WIDTHS", "MAX_ROWS", "NOTICE_STATUS", "ROUTES", "SAMPLING_READERS",
           "ExportController", "audit_actions", "audit_response", "audit_xlsx", "batch_items_response",
           "batch_items_xlsx", "batches_response", "batches_xlsx", "day_bounds", "notices_response", "notices_xlsx",
           "samples_response", "samples_xlsx", "xlsx_response"]
