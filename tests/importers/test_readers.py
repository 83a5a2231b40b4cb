"""Reading every sample list, and the bad inputs officers will upload sooner or later.

Counts and line numbers below were checked by hand against the files (see tests/data/README.md;
"line" is what a person sees in Excel or an editor, header and title rows included).
"""

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest

from importers import readers
from importers.cleaning import clean_values, normalize_name, parse_date, parse_uscc
from importers.readers import (
    CorruptFileError, EmptyFileError, EncodingError, HeaderNotFoundError, MissingColumnsError, ReaderError,
    SheetNotFoundError, UnsupportedFormatError, iter_batches, iter_rows, open_source, sniff_format,
)

VALID_USCC = "91320571T6748MKWW3"
SAMPLES = {
    "firms_master.csv", "hnte_2024_jiangsu_batch1.xlsx", "tech_sme_2025_kunshan.csv",
    "srdi_little_giant_batch6.csv", "indicators_2023_2024.xlsx", "gazelle_suzhou_2024.xlsx",
    "bad_rows_example.csv", "policy_targets.csv",
}


def read_all(path, **options):
    """[(table, rows)] for every table of a file."""
    source = open_source(path)
    return [(table, list(table.rows())) for table in source.tables(**options)]


def test_every_sample_file_is_covered(data_dir):
    # A new sample file must get its own hand-checked test here.
    files = {p.name for p in data_dir.iterdir() if p.suffix in (".csv", ".xlsx")}
    assert files == SAMPLES


# ---------------------------------------------------------------------------------------------
# The samples


def test_hnte_jiangsu_batch1(data_dir):
    [(table, rows)] = read_all(data_dir / "hnte_2024_jiangsu_batch1.xlsx")
    assert table.format == "xlsx"
    assert table.sheet == "公示名单"
    assert table.header_line == 3
    assert [c.header for c in table.columns] == ["序号", "企业名称", "统一社会信用代码", "所在地区", "证书编号"]
    assert table.fields == ["name", "uscc", "region", "certificate_no"]
    assert len(rows) == 40
    assert [r.line for r in rows] == list(range(4, 44))
    # merged title, blank row under the table, footnote under that
    assert table.skipped == [(1, "above header"), (44, "blank"), (45, "footnote")]
    assert "序号" in rows[0].raw and "序号" not in rows[0].values

    by_line = {r.line: r for r in rows}
    # data rows 7, 11, 15 = spreadsheet rows 10, 14, 18
    assert by_line[10].values["uscc"] == "９１３２０５８３ＬＸＧＱＨＭ９Ｐ５Ｎ"
    assert parse_uscc(by_line[10].values["uscc"]) == "91320583LXGQHM9P5N"
    assert by_line[14].values["uscc"] == "91320505c71wtf273q"
    assert parse_uscc(by_line[14].values["uscc"]) == "91320505C71WTF273Q"
    assert by_line[18].raw["统一社会信用代码"] == " 91320585Y A43WA6AGN"
    assert parse_uscc(by_line[18].values["uscc"]) == "91320585YA43WA6AGN"

    cleaned = [clean_values(r.values, table.units) for r in rows]
    assert [c.errors for c in cleaned if c.errors] == []
    assert len({c.values["uscc"] for c in cleaned}) == 40
    assert cleaned[0].values["certificate_no"] == "GR202432000001"
    assert cleaned[-1].values["certificate_no"] == "GR202432000040"
    assert cleaned[-1].values["name"] == "无锡联芯新材料有限公司"


def test_tech_sme_kunshan_gbk(data_dir):
    source = open_source(data_dir / "tech_sme_2025_kunshan.csv")
    assert (source.format, source.encoding) == ("csv", "gbk")
    [(table, rows)] = read_all(data_dir / "tech_sme_2025_kunshan.csv")
    assert table.header_line == 1
    assert table.fields == ["certificate_no", "name", "uscc", "region"]
    assert len(rows) == 50
    assert [r.line for r in rows] == list(range(2, 52))
    # 18-digit registration numbers stay text, leading digits intact
    assert [r.values["certificate_no"] for r in rows] == [f"2025320583{i:08d}" for i in range(1, 51)]
    assert rows[0].values["name"] == "昆山普瑞生物科技有限公司"
    assert rows[-1].values["region"] == "太仓市"
    assert all(clean_values(r.values).ok for r in rows)


def test_srdi_little_giant_names_only(data_dir):
    source = open_source(data_dir / "srdi_little_giant_batch6.csv")
    assert source.encoding == "utf-8-sig"
    [(table, rows)] = read_all(data_dir / "srdi_little_giant_batch6.csv", required=[("uscc", "name")])
    # the BOM does not stick to the first header: 序号 is still seen as the index column
    assert [c.header for c in table.columns] == ["序号", "省份", "企业名称"]
    assert table.columns[0].is_index
    assert table.fields == ["province", "name"]
    assert len(rows) == 12
    assert [r.line for r in rows] == list(range(2, 14))
    assert all("uscc" not in r.values for r in rows)

    # Every name is a firm of the master list once both sides are normalised.
    [(_, firms)] = read_all(data_dir / "firms_master.csv")
    master = {normalize_name(f.values["name"]): f.values["uscc"] for f in firms}
    matched = [master.get(normalize_name(r.values["name"])) for r in rows]
    assert None not in matched
    assert matched[0] == "913202825TH2HUCCPE"

    # Without a USCC column, a USCC-only import says so and lists what the file has.
    with pytest.raises(MissingColumnsError) as exc:
        read_all(data_dir / "srdi_little_giant_batch6.csv", required=["uscc"])
    assert "uscc (统一社会信用代码)" in str(exc.value)
    assert "序号, 省份, 企业名称" in str(exc.value)
    assert exc.value.found == ["序号", "省份", "企业名称"]


def test_indicators_two_years(data_dir):
    tables = read_all(data_dir / "indicators_2023_2024.xlsx", required=["uscc", "year"])
    assert [t.sheet for t, _ in tables] == ["2023年度", "2024年度"]
    usccs = []
    for (table, rows), year in zip(tables, ("2023", "2024"), strict=True):
        assert table.header_line == 1
        assert len(rows) == 60
        assert [r.line for r in rows] == list(range(2, 62))
        # This file has a 年度 column; it agrees with the sheet name.
        assert table.has_column("year") and table.from_sheet == {}
        assert {r.values["year"] for r in rows} == {year}
        assert table.units == {
            "revenue": "万元", "rd_expense": "万元", "invention_patents": "件", "hightech_revenue": "万元",
            "total_assets": "万元",
        }
        assert set(table.fields) == {
            "uscc", "name", "year", "revenue", "rd_expense", "employees", "rd_staff", "invention_patents",
            "hightech_revenue", "total_assets",
        }
        cleaned = [clean_values(r.values, table.units) for r in rows]
        assert [c.errors for c in cleaned if c.errors] == []
        usccs.append({c.values["uscc"] for c in cleaned})
    assert len(usccs[0]) == 60 and usccs[0] == usccs[1]  # 60 firms × 2 years

    first_2023 = clean_values(tables[0][1][0].values, tables[0][0].units).values
    assert first_2023["uscc"] == "913202825TH2HUCCPE"
    assert first_2023["year"] == 2023
    assert first_2023["revenue"] == Decimal("1968.8")
    assert first_2023["rd_expense"] == Decimal("101.6")
    assert first_2023["employees"] == 429
    assert first_2023["rd_staff"] == 92
    assert first_2023["invention_patents"] == 3
    last_2024 = clean_values(tables[1][1][-1].values, tables[1][0].units).values
    assert (last_2024["uscc"], last_2024["total_assets"]) == ("91320506G921F3XKBU", Decimal("2400"))


def test_gazelle_one_sheet_per_district(data_dir):
    tables = read_all(data_dir / "gazelle_suzhou_2024.xlsx", fill_from_sheet=("region",))
    sheets = {t.sheet: rows for t, rows in tables}
    assert {s: len(r) for s, r in sheets.items()} == {"昆山市": 3, "江阴市": 3, "南京市江宁区": 4, "苏州市虎丘区": 6}
    for table, rows in tables:
        assert table.header_line == 2  # each sheet has its own title row
        assert table.skipped == [(1, "above header")]
        assert table.from_sheet == {"region": table.sheet}
        assert [r.line for r in rows] == list(range(3, 3 + len(rows)))
        for row in rows:
            assert row.sheet == table.sheet
            assert row.values["region"] == table.sheet
            assert row.values["issued_on"] == "2024年11月5日"
            result = clean_values(row.values, table.units)
            assert result.ok, result.message()
            assert result.values["issued_on"] == dt.date(2024, 11, 5)
    assert sheets["苏州市虎丘区"][-1].values["uscc"] == "913205052R4QU848Q7"

    # Default: the district is still on every row as row.sheet, but not invented as a region value.
    rows = list(iter_rows(data_dir / "gazelle_suzhou_2024.xlsx"))
    assert len(rows) == 16
    assert "region" not in rows[0].values and rows[0].sheet == "昆山市"

    # One sheet by name.
    [(table, rows)] = read_all(data_dir / "gazelle_suzhou_2024.xlsx", sheet="江阴市")
    assert [r.values["name"] for r in rows][0] == "江阴博远医疗器械股份有限公司"


def test_bad_rows_example(data_dir):
    [(table, rows)] = read_all(data_dir / "bad_rows_example.csv")
    # data row n is file line n + 1; data row 6 (line 7) is blank and skipped
    assert [r.line for r in rows] == [2, 3, 4, 5, 6, 8, 9]
    assert table.skipped == [(7, "blank")]
    by_line = {r.line: r for r in rows}
    results = {line: clean_values(r.values, table.units) for line, r in by_line.items()}

    assert results[2].ok  # row 1
    # row 2: bad check digit → review, not dropped; the code is kept
    [err] = results[3].errors
    assert (err.field, err.code, err.review) == ("uscc", "checksum", True)
    assert results[3].needs_review and results[3].values["uscc"] == "913202116J81J37T60"
    assert "913202116J81J37T60" in err.message
    # row 3: unknown region is the database's business; the text is kept as published
    assert results[4].ok and by_line[4].values["region"] == "火星市" and by_line[4].raw["所在地区"] == "火星市"
    # row 4: Excel serial date
    assert by_line[5].values["issued_on"] == "45356"
    assert results[5].ok and results[5].values["issued_on"] == dt.date(2024, 3, 5)
    # row 5: duplicate of row 1: reads fine (duplicates are found when applying)
    assert results[6].values == results[2].values
    # row 7: short code AND impossible date, both reported
    assert {e.field for e in results[8].errors} == {"uscc", "issued_on"}
    assert all(not e.review for e in results[8].errors)
    assert "'9132058'" in results[8].message() and "'2024/13/40'" in results[8].message()
    # row 8: Chinese date
    assert results[9].ok and results[9].values["issued_on"] == dt.date(2024, 3, 5)


def test_policy_targets_english_headers(data_dir):
    [(table, rows)] = read_all(data_dir / "policy_targets.csv", required=["region_code", "stage", "kind", "year", "target"])
    assert table.fields == [
        "region_code", "region_name", "stage", "tier", "kind", "start_year", "year", "target", "source", "note",
    ]
    assert len(rows) == 26
    assert [r.line for r in rows] == list(range(2, 28))
    cleaned = [clean_values(r.values).values for r in rows]
    assert cleaned[0] == {
        "region_code": "320583", "region_name": "昆山市", "stage": "tech_sme", "tier": None, "kind": "STOCK",
        "start_year": None, "year": 2025, "target": 4300,
        "source": "昆山市祖冲之攻关计划三年行动方案（2025—2027年）", "note": "国家科技型中小企业 年度数据",
    }
    assert {c["kind"] for c in cleaned} == {"STOCK", "FLOW"}
    assert sum(c["kind"] == "FLOW" for c in cleaned) == 12
    wuxi_srdi = [c for c in cleaned if c["region_code"] == "320200" and c["stage"] == "srdi"]
    assert [(c["tier"], c["start_year"], c["year"], c["target"]) for c in wuxi_srdi] == [
        ("srdi_sme", 2024, 2027, 1600), ("srdi_little_giant", 2024, 2027, 320),
    ]
    assert cleaned[-1]["target"] == 60000


def test_firms_master(data_dir):
    [(table, rows)] = read_all(data_dir / "firms_master.csv", required=["uscc", "name"])
    assert table.units == {"registered_capital": "万元"}
    assert len(rows) == 120
    cleaned = [clean_values(r.values, table.units) for r in rows]
    assert [c.errors for c in cleaned if c.errors] == []
    assert len({c.values["uscc"] for c in cleaned}) == 120
    assert cleaned[0].values["registered_capital"] == Decimal("100")
    assert cleaned[0].values["founded_on"] == dt.date(2012, 10, 24)
    assert rows[-1].line == 121


# ---------------------------------------------------------------------------------------------
# Layouts


def write_csv(path, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_header_on_row_4_with_blank_rows_and_footnotes(tmp_path):
    path = write_csv(tmp_path / "list.csv", [
        ["附件1"],
        ["2024年度某市瞪羚企业拟认定名单"],
        [],
        ["序号", "企业名称", "统一社会信用代码", "所在地区"],
        ["1", "苏州智源智能装备有限公司", "91320571T6748MKWW3", "苏州工业园区"],
        ["", "", "", ""],
        ["2", "无锡华擎光电科技有限公司", "913202116J81J37T60", "无锡市滨湖区"],
        [],
        ["3", "南京晶微新材料有限公司", "91320115F5FCTDAX2H", "南京市江宁区"],
        ["合计", "3家", "", ""],
        [],
        ["备注：以上排名不分先后。"],
        ["1. 公示期为10个工作日"],
    ], encoding="gbk")
    [(table, rows)] = read_all(path)
    assert table.header_line == 4
    assert [r.line for r in rows] == [5, 7, 9]
    assert table.skipped == [
        (1, "above header"), (2, "above header"), (6, "blank"), (8, "blank"), (10, "total"), (11, "blank"),
        (12, "footnote"), (13, "footnote"),
    ]


def test_header_on_row_4_xlsx_with_merged_cells(make_xlsx):
    path = make_xlsx({"名单": [
        ["江苏省2024年拟认定名单", None, None, None],
        ["单位：元", None, None, None],
        [None, None, None, None],
        ["序号", "企业名称", "所属地区", "注册资本"],
        [1, "苏州智源智能装备有限公司", "苏州工业园区", 1234567],
        [2, "苏州恒拓智能装备有限公司", None, 5000000.5],
        [3, "昆山合力新能源科技有限公司", "昆山市", 100],
        [None, None, None, None],
        ["注：数据截至2024年底", None, None, None],
    ]}, merges={"名单": ["A1:D1", "C5:C6", "A9:D9"]})
    [(table, rows)] = read_all(path)
    assert table.header_line == 4
    assert [r.line for r in rows] == [5, 6, 7]
    # the vertically merged region cell is filled down; the merged title and footnote are not data
    assert [r.values["region"] for r in rows] == ["苏州工业园区", "苏州工业园区", "昆山市"]
    assert table.skipped == [(1, "above header"), (2, "above header"), (8, "blank"), (9, "footnote")]
    # "单位：元" above the header applies to the money column, which names no unit itself
    assert table.units == {"registered_capital": "元"}
    assert rows[0].values["registered_capital"] == "1234567"
    capital = [clean_values(r.values, table.units).values["registered_capital"] for r in rows]
    assert capital == [Decimal("123.4567"), Decimal("500.00005"), Decimal("0.01")]


def test_streamed_xlsx_reads_the_same_rows(make_xlsx, monkeypatch):
    rows = [["标题"], [], ["企业名称", "统一社会信用代码"]] + [[f"企业{i}", "91320571T6748MKWW3"] for i in range(60)]
    path = make_xlsx({"S": rows})
    monkeypatch.setattr(readers, "XLSX_FULL_LOAD_MAX_BYTES", 0)  # force openpyxl read-only mode
    batches = list(iter_batches(path, chunksize=7))
    assert len(batches) >= 5
    lines = [r.line for b in batches for r in b]
    assert lines == list(range(4, 64))


def test_excel_date_cells_stay_dates(make_xlsx):
    path = make_xlsx({"S": [
        ["企业名称", "统一社会信用代码", "认定日期", "有效期至"],
        ["A公司", "91320571T6748MKWW3", dt.datetime(2024, 3, 5), 45356],
    ]})
    [row] = iter_rows(path)
    assert row.values["issued_on"] == dt.datetime(2024, 3, 5)
    assert row.values["valid_until"] == "45356"  # a plain number cell stays text
    assert parse_date(row.values["issued_on"]) == parse_date(row.values["valid_until"]) == dt.date(2024, 3, 5)


def test_year_from_sheet_name_when_no_year_column(make_xlsx):
    header = ["统一社会信用代码", "企业名称", "营业收入（万元）"]
    path = make_xlsx({
        "2023年度": [header, ["91320571T6748MKWW3", "A公司", 10]],
        "2024年": [header, ["91320571T6748MKWW3", "A公司", 12]],
        "说明": [["本表由统计局提供"]],
    })
    source = open_source(path)
    tables = list(source.tables(required=["uscc", "year"]))
    assert [(t.sheet, t.from_sheet) for t in tables] == [("2023年度", {"year": "2023"}), ("2024年", {"year": "2024"})]
    assert tables[0].fields == ["uscc", "name", "revenue", "year"]
    years = [clean_values(r.values).values["year"] for t in tables for r in t.rows()]
    assert years == [2023, 2024]
    # the notes sheet has no table: skipped, with the reason kept
    assert [s for s, _ in source.skipped_sheets] == ["说明"]


def test_year_column_missing_and_not_in_sheet_name(make_xlsx):
    path = make_xlsx({"Sheet1": [["统一社会信用代码", "企业名称", "营业收入"], ["91320571T6748MKWW3", "A", 1]]})
    with pytest.raises(MissingColumnsError) as exc:
        read_all(path, required=["uscc", "year"])
    assert "year (年度)" in str(exc.value) and "统一社会信用代码, 企业名称, 营业收入" in str(exc.value)


def test_missing_required_column_lists_columns_found(tmp_path):
    path = write_csv(tmp_path / "x.csv", [["序号", "企业名称", "所在地区"], ["1", "A公司", "昆山市"]])
    with pytest.raises(MissingColumnsError) as exc:
        read_all(path, required=["uscc", ("issued_on", "batch")])
    message = str(exc.value)
    assert "missing required column(s): uscc (统一社会信用代码); issued_on (发证日期) or batch (批次)" in message
    assert "Columns found: 序号, 企业名称, 所在地区" in message


def test_no_header_anywhere(tmp_path):
    path = write_csv(tmp_path / "x.csv", [["甲", "乙", "丙"], ["1", "2", "3"]])
    with pytest.raises(HeaderNotFoundError, match="甲, 乙, 丙"):
        read_all(path)


def test_header_below_scan_window_is_not_found(tmp_path):
    path = write_csv(tmp_path / "x.csv", [["说明文字"]] * 25 + [["企业名称", "统一社会信用代码"], ["A", "B"]])
    with pytest.raises(HeaderNotFoundError):
        read_all(path)


def test_repeated_header_and_quoted_line_breaks(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(
        "企业名称,统一社会信用代码,主营产品\n"
        'A公司,91320571T6748MKWW3,"电池\n储能"\n'
        "企业名称,统一社会信用代码,主营产品\n"
        "B公司,91320505EK9N8KQG9L,芯片\n",
        encoding="utf-8",
    )
    [(table, rows)] = read_all(path)
    assert [(r.line, r.values["name"]) for r in rows] == [(2, "A公司"), (5, "B公司")]
    assert rows[0].values["main_products"] == "电池\n储能"
    assert table.skipped == [(4, "repeated header")]


def test_frames_come_in_the_size_asked_with_file_line_numbers(tmp_path):
    path = tmp_path / "x.csv"
    body = "".join(f"公司{i},91320571T6748MKWW3,\"电池\n储能\"\n" if i == 3 else f"公司{i},91320571T6748MKWW3,芯片\n"
                   for i in range(1, 8))
    path.write_text("名单\n企业名称,统一社会信用代码,主营产品\n" + body, encoding="utf-8")
    [table] = open_source(path).tables(chunksize=5000)
    frames = list(table.frames(3))
    # chunks of the file's records (title and header lines are dropped from the first one)
    assert [len(frame) for _, frame in frames] == [1, 3, 3]
    # line numbers are the file's: the header is line 2, and row 3's quoted line break takes a line
    assert [int(n) for lines, _ in frames for n in lines] == [3, 4, 5, 7, 8, 9, 10]
    assert frames[1][1].iloc[1, 2] == "电池\n储能"


def test_tab_separated_and_file_object(tmp_path):
    data = "企业名称\t统一社会信用代码\nA公司\t91320571T6748MKWW3\n".encode("gb18030")
    rows = list(iter_rows(io.BytesIO(data)))
    assert [(r.line, r.values) for r in rows] == [(2, {"name": "A公司", "uscc": "91320571T6748MKWW3"})]


def test_header_year_prefix_and_units(tmp_path):
    path = write_csv(tmp_path / "x.csv", [
        ["统一社会信用代码", "2023年营业收入（元）", "资产负债率(%)", "估值（亿美元）"],
        ["91320571T6748MKWW3", "12,345,000", "45.5", "1.2"],
    ])
    [(table, [row])] = read_all(path)
    revenue = next(c for c in table.columns if c.field == "revenue")
    assert (revenue.year, revenue.unit) == (2023, "元")
    assert table.units == {"revenue": "元", "debt_ratio": "%", "valuation_usd": "亿美元"}
    values = clean_values(row.values, table.units).values
    assert values["revenue"] == Decimal("1234.5")
    assert values["debt_ratio"] == Decimal("0.455")
    assert values["valuation_usd"] == Decimal("120000000")


def test_duplicate_field_columns_keep_the_first(tmp_path):
    path = write_csv(tmp_path / "x.csv", [["企业名称", "地区", "所在地"], ["A", "昆山市", "江苏省昆山市"]])
    [(table, [row])] = read_all(path)
    assert row.values == {"name": "A", "region": "昆山市"}
    assert row.raw == {"企业名称": "A", "地区": "昆山市", "所在地": "江苏省昆山市"}
    assert table.warnings and "所在地" in table.warnings[0]


def test_unknown_sheet_lists_sheets(data_dir):
    with pytest.raises(SheetNotFoundError, match="昆山市, 江阴市"):
        read_all(data_dir / "gazelle_suzhou_2024.xlsx", sheet="常州市")


# ---------------------------------------------------------------------------------------------
# Files that are not what they claim


def test_utf16_is_refused(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("企业名称,统一社会信用代码\nA,B\n", encoding="utf-16")
    with pytest.raises(EncodingError, match="UTF-16"):
        open_source(path)
    # same text without a BOM
    path.write_bytes("企业名称,统一社会信用代码\nA,B\n".encode("utf-16-le"))
    with pytest.raises(EncodingError, match="UTF-16"):
        open_source(path)


def test_neither_utf8_nor_gbk(tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes("企业名称,统一社会信用代码\n".encode() + b"\xff\xfe\xfd\xff,1\n" * 3)
    with pytest.raises(EncodingError, match="neither UTF-8 nor GBK"):
        open_source(path)


def test_random_bytes(tmp_path):
    import random

    path = tmp_path / "list.csv"
    path.write_bytes(random.Random(7).randbytes(4096))
    with pytest.raises((UnsupportedFormatError, EncodingError)):
        open_source(path)


@pytest.mark.parametrize("magic, what", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, ".xls"),
    ("<html><body><table><tr><td>企业名称</td></tr></table>".encode(), "web page"),
])
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_not_csv_or_xlsx_whatever_the_name(tmp_path, magic, what, suffix):
    path = tmp_path / f"list{suffix}"
    path.write_bytes(magic + b"\x00" * 100)
    with pytest.raises(UnsupportedFormatError, match=what):
        open_source(path)


def test_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "list.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
    with pytest.raises(UnsupportedFormatError, match="Word"):
        open_source(path)


def test_csv_named_xlsx_is_read_as_csv(tmp_path):
    path = write_csv(tmp_path / "list.xlsx", [["企业名称", "统一社会信用代码"], ["A公司", "91320571T6748MKWW3"]])
    assert sniff_format(path) == "csv"
    assert len(list(iter_rows(path))) == 1


@pytest.mark.parametrize("content", [b"", b"  \r\n\r\n ,,, \n"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "list.csv"
    path.write_bytes(content)
    with pytest.raises(EmptyFileError):
        read_all(path)


def test_empty_workbook(make_xlsx):
    path = make_xlsx({"Sheet1": []})
    with pytest.raises(ReaderError, match="empty"):
        read_all(path)


def test_truncated_xlsx(tmp_path, data_dir):
    data = (data_dir / "hnte_2024_jiangsu_batch1.xlsx").read_bytes()
    path = tmp_path / "list.xlsx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError, match="truncated or damaged"):
        open_source(path)


def test_damaged_sheet_inside_valid_zip(tmp_path, data_dir):
    path = tmp_path / "list.xlsx"
    with zipfile.ZipFile(data_dir / "hnte_2024_jiangsu_batch1.xlsx") as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = body[: len(body) // 2]  # cut in the middle of the XML
            dst.writestr(item, body)
    with pytest.raises(CorruptFileError):
        read_all(path)


def test_reader_errors_are_one_family():
    for cls in (EmptyFileError, UnsupportedFormatError, EncodingError, CorruptFileError, HeaderNotFoundError,
                MissingColumnsError, SheetNotFoundError):
        assert issubclass(cls, ReaderError)


# ---------------------------------------------------------------------------------------------
# Large files


def test_large_csv_is_streamed_in_batches(tmp_path):
    n = 200_000
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("2025年科技型中小企业入库名单\n序号,入库登记编号,企业名称,统一社会信用代码,所属地区\n")
        for i in range(1, n + 1):
            fh.write(f"{i},2025320583{i:08d},测试{i}科技有限公司,91320571T6748MKWW3,昆山市\n")
    source = open_source(path)
    [table] = source.tables(chunksize=10_000)
    sizes, first, last, lines_ok = [], None, None, True
    for batch in table.batches():
        sizes.append(len(batch))
        first = first or batch[0]
        # line numbers are physical lines: data row i is line i + 2
        lines_ok &= all(r.line == int(r.values["certificate_no"][-8:]) + 2 for r in batch[:: 997])
        last = batch[-1]
    assert sum(sizes) == n
    assert len(sizes) >= 20 and max(sizes) <= 10_000  # never the whole file at once
    assert lines_ok
    assert (first.line, last.line) == (3, n + 2)
    assert last.values["name"] == f"测试{n}科技有限公司"


def test_gbk_after_a_long_ascii_start(tmp_path):
    # The first 64 KiB are ASCII; the encoding is decided by the first Chinese text further down.
    path = tmp_path / "x.csv"
    lines = ["uscc,name,region"] + [f"91320571T6748MKWW3,Firm {i},Kunshan" for i in range(3000)]
    lines.append("91320505EK9N8KQG9L,苏州中科新能源科技有限公司,苏州市虎丘区")
    path.write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    assert path.stat().st_size > readers.SNIFF_BYTES
    source = open_source(path)
    assert source.encoding == "gbk"
    rows = list(iter_rows(path))
    assert (rows[-1].line, rows[-1].values["name"]) == (3002, "苏州中科新能源科技有限公司")


def test_names_only_list_with_index_column(tmp_path):
    path = write_csv(tmp_path / "x.csv", [["第六批专精特新“小巨人”企业名单"], ["序号", "企业名称"], ["1", "A公司"], ["2", "B公司"]])
    [(table, rows)] = read_all(path)
    assert table.header_line == 2 and [r.values for r in rows] == [{"name": "A公司"}, {"name": "B公司"}]


def test_hidden_sheets_are_skipped(make_xlsx):
    import openpyxl

    path = make_xlsx({"名单": [["企业名称", "统一社会信用代码"], ["A", VALID_USCC]], "字典": [["地区", "区划代码"], ["昆山市", "320583"]]})
    wb = openpyxl.load_workbook(path)
    wb["字典"].sheet_state = "hidden"
    wb.save(path)
    source = open_source(path)
    assert [t.sheet for t in source.tables()] == ["名单"]
    assert source.skipped_sheets[0][0] == "字典"


@pytest.mark.parametrize("streamed", [False, True])
def test_damaged_sheet_xml_either_mode(tmp_path, data_dir, monkeypatch, streamed):
    if streamed:
        monkeypatch.setattr(readers, "XLSX_FULL_LOAD_MAX_BYTES", 0)
    path = tmp_path / "list.xlsx"
    with zipfile.ZipFile(data_dir / "gazelle_suzhou_2024.xlsx") as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet2.xml":
                body = body.replace(b"</sheetData>", b"<row r='9'><c r='A9'")
            dst.writestr(item, body)
    with pytest.raises(CorruptFileError):
        read_all(path)
