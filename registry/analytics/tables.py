"""The analytics as tables (a header row, then data rows): what the analytics page shows and what its
CSV/XLSX exports contain, so a download always matches the screen.

Each function takes the result of the analytics function itself (funnel, stage_transitions,
cohort_table, cohort_firms, target_progress), already computed within the caller's scope; cells
are plain values (the writers in importers/exports.py neutralise formula-like text).
"""

from registry.models import Stage, Tier

KIND_LABELS = {"entry": "新进入", "upgrade": "晋级", "stay": "保持", "downgrade": "降级", "lapse": "到期退出",
               "revocation": "撤销"}
NO_STAGE = "（无）"


def stage_names():
    return dict(Stage.objects.values_list("code", "name"))


def tier_names():
    return dict(Tier.objects.values_list("code", "name"))


def percent(value):
    return "" if value is None else f"{value * 100:.1f}%"


def funnel_table(result, names=None):
    names = stage_names() if names is None else names
    header = ["阶段 stage", "企业数 firms", "较上一级 from previous", "较首级 from first", "中位年数 median years"]
    rows = [[names.get(s["stage"], s["stage"]), s["count"], percent(s["conversion_from_previous"]),
             percent(s["conversion_from_first"]),
             "" if s["median_years_from_previous"] is None else s["median_years_from_previous"]]
            for s in result["steps"]]
    return header, rows


def transition_table(rows, names=None):
    names = stage_names() if names is None else names
    header = ["年初阶段 from", "年末阶段 to", "类型 kind", "企业数 firms"]
    return header, [[names.get(r["from_stage"], r["from_stage"]) if r["from_stage"] else NO_STAGE,
                     names.get(r["to_stage"], r["to_stage"]) if r["to_stage"] else NO_STAGE,
                     KIND_LABELS.get(r["kind"], r["kind"]), r["count"]] for r in rows]


def transition_matrix(rows, names=None, no_stage=NO_STAGE):
    """(from labels, to labels, cells[from][to]) with “no stage” (labelled `no_stage`) first among the
    rows and last among the columns, stages by rank; cells hold the count summed over kinds (0 when none)."""
    names = stage_names() if names is None else names
    order = list(Stage.objects.filter(code__in={r["from_stage"] for r in rows} | {r["to_stage"] for r in rows})
                 .order_by("rank").values_list("code", flat=True))
    froms, tos = [None] + order, order + [None]
    counts = {}
    for r in rows:
        counts[(r["from_stage"], r["to_stage"])] = counts.get((r["from_stage"], r["to_stage"]), 0) + r["count"]
    label = lambda code: no_stage if code is None else names.get(code, code)  # noqa: E731
    cells = [[counts.get((f, t), 0) for t in tos] for f in froms]
    return [label(f) for f in froms], [label(t) for t in tos], cells, froms, tos


def cohort_table_rows(result):
    """Header “entry year, size, year 0…k”; a cell is “share (reached)”."""
    width = max((len(r["cells"]) for r in result["rows"]), default=0)
    header = ["入选年份 entry year", "企业数 firms"] + [f"第{k}年 year {k}" for k in range(width)]
    rows = [[r["entry_year"], r["size"]] + [f"{percent(c['share'])} ({c['reached']})" for c in r["cells"]]
            + [""] * (width - len(r["cells"])) for r in result["rows"]]
    return header, rows


def cohort_firms_table(rows):
    header = ["统一社会信用代码 USCC", "企业名称 name", "地区代码 region", "地区 region name", "入选日期 entered",
              "晋级日期 reached"]
    return header, [[r["uscc"], r["name"], r["region"], r["region_name"], r["entered_on"], r["reached_on"]]
                    for r in rows]


def target_table(by_year, names=None, tiers=None):
    """by_year: [(year, target_progress(region, year))]; one row per target and year."""
    names = stage_names() if names is None else names
    tiers = tier_names() if tiers is None else tiers
    header = ["年份 year", "阶段 stage", "层级 tier", "口径 kind", "目标年份 target year", "目标 target",
              "实际 actual", "完成率 ratio", "来源 source"]
    rows = []
    for year, targets in by_year:
        for t in targets:
            rows.append([year, names.get(t["stage"], t["stage"]), tiers.get(t["tier"], t["tier"] or ""),
                         "存量 STOCK" if t["kind"] == "STOCK" else "新增 FLOW", t["year"], t["target"], t["actual"],
                         percent(t["ratio"]), t["source"]])
    return header, rows
