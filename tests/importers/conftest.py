"""Shared fixtures for the importer tests: where the sample files live, and file builders."""

from pathlib import Path

import openpyxl
import pytest

# Sample files shaped like published lists (fictional firms, valid USCCs); see tests/data/README.md.
DATA_DIR = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    assert DATA_DIR.is_dir(), f"sample data not found at {DATA_DIR}"
    return DATA_DIR


@pytest.fixture
def make_xlsx(tmp_path):
    """Write a workbook from {sheet: [rows]} (rows are lists of cell values); returns its path."""

    def build(sheets: dict, name: str = "book.xlsx", merges: dict | None = None) -> Path:
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for title, rows in sheets.items():
            ws = wb.create_sheet(title)
            for r, row in enumerate(rows, start=1):
                for c, value in enumerate(row, start=1):
                    if value is not None:
                        ws.cell(r, c, value)
            for rng in (merges or {}).get(title, ()):
                ws.merge_cells(rng)
        path = tmp_path / name
        wb.save(path)
        return path

    return build
