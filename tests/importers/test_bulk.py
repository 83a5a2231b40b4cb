"""The set-based path (registry.services.bulk) gives exactly what the per-row services give."""

import pytest

from importers import services as import_services
from importers.services import import_file
from registry.models import AuditEvent, Certification, Firm
from tests.factories import make_uscc

pytestmark = pytest.mark.django_db

X, Y, Z, W = (make_uscc("320583", serial=n) for n in (9001, 9002, 9003, 9004))
HEADER = "企业名称,统一社会信用代码,所在地区,证书编号,发证日期,有效期至\n"
FIRST = [
    ("昆山甲科技有限公司", X, "昆山市", "GR201832000001", "2018-01-10", ""),
    ("昆山乙科技有限公司", Y, "昆山市", "GR202132000002", "2021-03-01", ""),
    ("昆山丙科技有限公司", Z, "昆山市", "", "2022-06-01", "2025-05-31"),
]
SECOND = [
    ("昆山甲科技有限公司", X, "昆山市", "GR202432000003", "2024-02-01", ""),   # renews the 2021 one (below)
    ("昆山甲科技有限公司", X, "昆山市", "GR202132000004", "2021-01-05", ""),   # out of order: between 2018 and 2024
    ("昆山甲科技有限公司", X, "昆山市", "GR201532000005", "2015-01-05", ""),   # older still
    ("昆山乙科技有限公司", Y, "昆山市", "GR202132000002", "2021-03-01", "2023-12-31"),  # corrected validity
    ("昆山乙科技有限公司", Y, "昆山市", "GR202132000099", "2021-03-01", ""),   # same start, other number: conflict
    ("昆山丙科技有限公司", Z, "昆山市", "GR202232000006", "2022-06-01", ""),   # numberless record gets its number
    ("昆山丁科技有限公司", W, "昆山市", "GR202532000007", "2025-01-01", ""),   # new firm, two records in one file
    ("昆山丁科技有限公司", W, "昆山市", "GR202232000008", "2022-01-01", ""),
    ("昆山丙科技有限公司", Z, "昆山市", "", "2019-01-01", "2022-05-31"),
]


def write(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text(HEADER + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    return path


def snapshot():
    by_id = {c.id: c for c in Certification.objects.select_related("firm", "tier")}

    def ref(cert):
        return (cert.firm.uscc, cert.tier.code, cert.valid_from) if cert else None

    certs = sorted(
        (c.firm.uscc, c.tier.code, c.certificate_no, c.issued_on, c.valid_from, c.valid_until, c.status, c.level,
         c.batch, c.source_row, ref(by_id.get(c.renews_id)))
        for c in by_id.values()
    )
    firms = sorted(Firm.objects.values_list("uscc", "name", "name_normalized", "region_id", "current_stage__code",
                                            "current_tier__code"))
    audit = sorted(AuditEvent.objects.values_list("action", "model").distinct())
    return certs, firms, audit, AuditEvent.objects.filter(model="certification").count()


def run_both(tmp_path, per_row):
    outcomes = []
    for name, rows in (("first.csv", FIRST), ("second.csv", SECOND), ("second_again.csv", SECOND)):
        job = import_file(write(tmp_path, name, rows), kind="recognitions", options={"tier": "hnte"}, per_row=per_row)
        outcomes.append((job.created, job.updated, job.unchanged, job.errors, job.firms_created))
    return outcomes, snapshot()


@pytest.mark.parametrize("chunksize", [2, 5000])
def test_bulk_and_per_row_give_the_same_registry(tmp_path, monkeypatch, chunksize):
    monkeypatch.setattr(import_services, "CHUNKSIZE", chunksize)
    per_row = run_both(tmp_path, per_row=True)
    Certification.objects.all().delete()
    Firm.objects.all().delete()
    AuditEvent.objects.all().delete()
    bulk = run_both(tmp_path, per_row=False)
    assert bulk == per_row
    outcomes, (certs, firms, _, _) = bulk
    assert outcomes[0] == (3, 0, 0, 0, 3)
    assert outcomes[1] == (6, 2, 0, 1, 1)
    assert outcomes[2] == (0, 0, 8, 1, 0)
    x = [c for c in certs if c[0] == X]
    assert [c[6] for c in x] == ["superseded", "superseded", "superseded", x[-1][6]]
    assert [c[10] and c[10][2].year for c in x] == [None, 2015, 2018, 2021]
    stages = {f[0]: f[4] for f in firms}
    assert stages[X] == stages[W] == "hnte" or stages[X] is None  # hnte while the 2024/2025 records run
    assert stages[Y] is None and stages[Z] is None  # lapsed


def test_bulk_path_announces_each_chunk_once(tmp_path, monkeypatch):
    from registry.signals import firms_changed

    sent = []

    def receiver(sender, firm_ids, **kwargs):
        sent.append(sorted(firm_ids))

    firms_changed.connect(receiver)
    try:
        import_file(write(tmp_path, "second.csv", SECOND), kind="recognitions", options={"tier": "hnte"})
    finally:
        firms_changed.disconnect(receiver)
    assert len(sent) == 1  # a small file is one chunk (the reader hands the rows under the header over at once)
    assert set().union(*map(set, sent)) == set(Firm.objects.values_list("id", flat=True))


# Firm lists: record_firms per chunk against upsert_firm per row.
A, B, C, D, E = (make_uscc("320583", serial=n) for n in (9101, 9102, 9103, 9104, 9105))
FIRM_HEADER = "统一社会信用代码,企业名称,成立日期,所在地区,主营产品,注册资本（万元）\n"
FIRMS_FIRST = [
    (A, "昆山甲精密有限公司", "2012-10-24", "昆山市", "精密模具", "100"),
    (B, "昆山乙电子有限公司", "2016-11-11", "昆山市", "", ""),
    (C, "昆山丙材料有限公司", "", "火星市", "", ""),          # unknown region: refused
]
FIRMS_SECOND = [
    (A, "昆山甲精密股份有限公司", "2012-10-24", "昆山市", "精密模具", "100"),  # renamed: old name kept
    (B, "昆山乙电子有限公司", "2016-11-11", "昆山市", "", ""),              # unchanged
    (C, "昆山丙材料有限公司", "2020-01-01", "昆山市", "", "-5"),            # negative capital: a warning, the value dropped
    (D, "昆山丁" + "很长" * 100 + "有限公司", "", "昆山市", "", ""),          # name over 200 characters
    (E, "昆山戊软件有限公司", "2021-05-05", "", "", "30"),                  # no region text: the USCC's division (昆山)
    (B, "昆山乙电子有限公司", "2016-11-11", "昆山市", "芯片", "20"),          # same USCC again: a duplicate
]


def firm_snapshot():
    firms = sorted(Firm.objects.values_list("uscc", "name", "name_normalized", "former_names", "founded_on",
                                            "region_id", "main_products", "registered_capital"))
    events = sorted((e.action, e.model, str(sorted(e.changes.items()))) for e in AuditEvent.objects.filter(model="firm"))
    return firms, events


def import_firms_both(tmp_path, per_row):
    outcomes = []
    for name, rows in (("f1.csv", FIRMS_FIRST), ("f2.csv", FIRMS_SECOND), ("f2_again.csv", FIRMS_SECOND)):
        path = tmp_path / name
        path.write_text(FIRM_HEADER + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
        job = import_file(path, kind="firms", per_row=per_row)
        errors = sorted((e.line, e.field, e.code, e.message) for e in job.row_errors.all())
        outcomes.append((job.status, job.created, job.updated, job.unchanged, job.errors, job.duplicates, errors))
    return outcomes, firm_snapshot()


@pytest.mark.parametrize("chunksize", [2, 5000])
def test_firm_list_set_based_and_per_row_give_the_same_registry(tmp_path, monkeypatch, chunksize):
    monkeypatch.setattr(import_services, "CHUNKSIZE", chunksize)
    per_row = import_firms_both(tmp_path, per_row=True)
    Firm.objects.all().delete()
    AuditEvent.objects.all().delete()
    bulk = import_firms_both(tmp_path, per_row=False)
    assert bulk == per_row
    outcomes, (firms, events) = bulk
    assert [o[1:6] for o in outcomes] == [(2, 0, 0, 1, 0), (2, 1, 1, 2, 1), (0, 0, 4, 2, 1)]  # a duplicate is also an error
    by_uscc = {f[0]: f for f in firms}
    assert set(by_uscc) == {A, B, C, E}
    assert by_uscc[C][6:] == ("", None) and by_uscc[E][5] == "320583"
    assert by_uscc[A][1] == "昆山甲精密股份有限公司" and by_uscc[A][3] == ["昆山甲精密有限公司"]
    assert sorted(e[0] for e in events) == ["create"] * 4 + ["update"]


def test_firm_list_runs_the_side_effects_once_per_chunk(tmp_path, monkeypatch):
    from registry.services import firms as firm_services
    from registry.services import staged

    calls = []
    real = firm_services.after_write
    for module in (firm_services, staged):  # the chunked path, and PostgreSQL's fast path (staged.StagedFirms)
        monkeypatch.setattr(module, "after_write", lambda ids, **kw: calls.append(list(ids)) or real(ids, **kw))
    path = tmp_path / "f.csv"
    rows = [(make_uscc("320583", serial=9200 + n), f"昆山{n}号科技有限公司", "", "昆山市", "", "") for n in range(30)]
    path.write_text(FIRM_HEADER + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    job = import_file(path, kind="firms")
    assert job.created == 30
    assert len(calls) == 1 and sorted(calls[0]) == sorted(Firm.objects.values_list("id", flat=True))
