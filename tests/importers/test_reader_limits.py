"""Files that could stall the importer (issue 13) are refused before parsing, each limit named in the
error: a 15,000-column CSV, a zip-bomb XLSX, too many cells; the job ends failed. What is checked is
where the refusal happens (no row read, openpyxl never called), not a time: speed is the benchmarks'
business (bench/import_*.py), and a time bound fails on a loaded machine."""

import zipfile

import openpyxl
import pytest

from importers.errors import LimitExceeded
from importers.models import JobStatus
from importers.readers import open_source
from importers.services import import_file
from registry.models import Firm
from tests.counting import CallCounter

pytestmark = pytest.mark.django_db


@pytest.fixture
def parsed(monkeypatch):
    """Counts of the readers that parse a file: CSV rows (`csv`), the XLSX raw XML scan (`scan`), openpyxl."""
    import openpyxl

    from importers import readers

    counts = CallCounter()


    monkeypatch.setattr(readers, "_csv_raw_batches", counts.wrap("csv", readers._csv_raw_batches))
    monkeypatch.setattr(readers, "_csv_frames", counts.wrap("csv", readers._csv_frames))
    monkeypatch.setattr(readers, "_scan_sheet_xml", counts.wrap("scan", readers._scan_sheet_xml))
    monkeypatch.setattr(openpyxl, "load_workbook", counts.wrap("openpyxl", openpyxl.load_workbook))
    return counts


def test_the_counts_see_a_list_being_read(tmp_path, parsed, zip_bomb, settings):
    """The control for the refusals below: a plain CSV is read, and a workbook under every limit is scanned
    and opened by openpyxl."""
    path = tmp_path / "one.csv"
    path.write_text("企业名称,统一社会信用代码\n甲公司,91320583LXGQHM9P5N\n", encoding="utf-8")
    import_file(path, kind="firms")
    assert parsed["csv"] >= 1
    settings.IMPORT_MAX_INFLATED_BYTES = 512 * 1024 * 1024
    with pytest.raises(LimitExceeded):
        list(open_source(zip_bomb).tables())
    assert parsed["scan"] == 1 and parsed["openpyxl"] == 0
    plain = zip_bomb.parent / "plain.xlsx"
    assert [t.fields for t in open_source(plain).tables()] and parsed["openpyxl"] >= 1


def test_a_csv_with_15000_columns_is_refused_before_a_row_is_read(tmp_path, parsed):
    header = ",".join(["企业名称", "统一社会信用代码"] + [f"列{i}" for i in range(15_000)])
    row = ",".join(["甲公司", "91320583LXGQHM9P5N"] + ["x"] * 15_000)
    path = tmp_path / "wide.csv"
    path.write_text(header + "\n" + row + "\n", encoding="utf-8")
    job = import_file(path, kind="firms")
    assert parsed["csv"] == 0  # refused from the sniffed sample
    assert job.status == JobStatus.FAILED and "IMPORT_MAX_COLUMNS" in job.message and "at least" in job.message
    assert Firm.objects.count() == 0


@pytest.fixture
def zip_bomb(tmp_path):
    """A real workbook whose first sheet inflates to ~64 MB (one row of identical cells): it packs to a
    few hundred KB. Without the size check openpyxl would parse every one of its 3 million cells."""
    path = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["企业名称", "统一社会信用代码"])
    wb.save(path)
    bomb = tmp_path / "bomb.xlsx"
    cell = b'<c t="inlineStr"><is><t>x</t></is></c>'
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                out.writestr(info, src.read(info))
                continue
            with out.open("xl/worksheets/sheet1.xml", "w") as sheet:
                sheet.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                            b'spreadsheetml/2006/main"><sheetData><row r="1">')
                block = cell * 100_000
                for _ in range(16):
                    sheet.write(block)
                sheet.write(b"</row></sheetData></worksheet>")
    return bomb


def test_a_zip_bomb_xlsx_is_refused_before_it_is_unpacked(zip_bomb, settings, parsed):
    settings.IMPORT_MAX_INFLATED_BYTES = 32 * 1024 * 1024
    job = import_file(zip_bomb, kind="firms")
    assert parsed["scan"] == parsed["openpyxl"] == 0  # refused from the zip directory's sizes
    assert job.status == JobStatus.FAILED and "IMPORT_MAX_INFLATED_BYTES" in job.message


def test_an_inflated_workbook_under_the_size_limit_is_still_refused_before_openpyxl_parses_it(zip_bomb, settings,
                                                                                               parsed):
    # openpyxl builds a whole row before yielding it, even read-only: the raw XML is counted first
    settings.IMPORT_MAX_INFLATED_BYTES = 512 * 1024 * 1024
    with pytest.raises(LimitExceeded, match="more than Excel allows"):
        list(open_source(zip_bomb).tables())
    assert parsed["scan"] == 1 and parsed["openpyxl"] == 0


def test_too_many_cells_are_refused_with_the_limit_named(tmp_path, settings):
    settings.IMPORT_MAX_CELLS = 1_000
    lines = ["企业名称,统一社会信用代码,所在地区"] + [f"公司{i},91320583LXGQHM9P5N,昆山市" for i in range(600)]
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    job = import_file(path, kind="firms")
    assert job.status == JobStatus.FAILED and "IMPORT_MAX_CELLS" in job.message


def test_a_long_job_times_out_and_writes_nothing(data_dir, settings):
    settings.IMPORT_TIMEOUT_SECONDS = 0
    job = import_file(data_dir / "firms_master.csv", kind="firms")
    assert job.status == JobStatus.FAILED and "IMPORT_TIMEOUT_SECONDS" in job.message
    assert Firm.objects.count() == 0
