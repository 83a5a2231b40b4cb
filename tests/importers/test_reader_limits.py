"""Files that could stall the importer (issue 13) are refused before parsing, within a second, each
limit named in the error: a 15,000-column CSV, a zip-bomb XLSX, too many cells; the job ends failed."""

import time
import zipfile

import openpyxl
import pytest

from importers.errors import LimitExceeded
from importers.models import JobStatus
from importers.readers import open_source
from importers.services import import_file
from registry.models import Firm

pytestmark = pytest.mark.django_db


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def test_a_csv_with_15000_columns_is_refused_within_a_second(tmp_path):
    header = ",".join(["企业名称", "统一社会信用代码"] + [f"列{i}" for i in range(15_000)])
    row = ",".join(["甲公司", "91320583LXGQHM9P5N"] + ["x"] * 15_000)
    path = tmp_path / "wide.csv"
    path.write_text(header + "\n" + row + "\n", encoding="utf-8")
    job, seconds = timed(lambda: import_file(path, kind="firms"))
    assert seconds < 1.0, f"took {seconds:.2f}s"
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


def test_a_zip_bomb_xlsx_is_refused_within_a_second(zip_bomb, settings):
    settings.IMPORT_MAX_INFLATED_BYTES = 32 * 1024 * 1024
    job, seconds = timed(lambda: import_file(zip_bomb, kind="firms"))
    assert seconds < 1.0, f"took {seconds:.2f}s"
    assert job.status == JobStatus.FAILED and "IMPORT_MAX_INFLATED_BYTES" in job.message


def test_an_inflated_workbook_under_the_size_limit_is_still_refused_before_openpyxl_parses_it(zip_bomb, settings):
    # openpyxl builds a whole row before yielding it, even read-only: the raw XML is counted first
    settings.IMPORT_MAX_INFLATED_BYTES = 512 * 1024 * 1024

    def read():
        with pytest.raises(LimitExceeded, match="more than Excel allows"):
            list(open_source(zip_bomb).tables())

    _, seconds = timed(read)
    assert seconds < 2.0, f"took {seconds:.2f}s"


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
