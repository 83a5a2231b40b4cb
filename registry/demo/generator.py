"""A deterministic, realistic demo registry: Jiangsu firms whose recognition histories follow the ladder.

Streams in chunks of firms with explicit primary keys and bulk inserts, so a million firms
generate in bounded memory. Each firm's current stage is decided by the same `current_of` the
services use; the seed bypasses per-row services on purpose (no audit rows for synthetic data).

Firms that apply for 高企 or 专精特新 also carry 补充年度指标 (`IndicatorDetail`: R&D inside China,
main-business revenue, the 高企 innovation-capability points), drawn from their own random stream so
adding them left every firm, recognition and indicator of a seed as it was.
"""

import datetime
import itertools
import json
import math
import random
from dataclasses import dataclass, field

from django.db import connection, reset_queries, transaction
from django.db.models import Max
from django.utils import timezone

from registry.analytics import precomputed
from registry.eligibility import precomputed as candidate_ranks
from registry.demo import names
from registry.models import (
    CandidateRank, Certification, CertificationStatus, Firm, IndicatorDetail, IndicatorYear, IndustryChain, Region,
    Tier,
)
from registry.names import normalize_name
from registry.services.ladder import add_months, default_valid_until
from registry.services.certifications import RENEWAL_GRACE
from registry.services.writes import copy_rows
from registry.services.stage import HOLDING_STATUSES, current_of

D = datetime.date
ONE_DAY = datetime.timedelta(days=1)
# The regions whose plans the demo tells (registry/data/policy_targets.csv), at the size that puts
# each rung in the right order of magnitude: about 4,300 科小, 3,000 高企, 250 瞪羚 and 30–40
# 独角兽培育 in 昆山 by 2025; 无锡 with about 11,000 科小 and 8,000 高企 towards its 2027 plan, and
# 新吴区 the Wuxi district with the unicorn plan. Checked against registry/analytics/targets.py
# by tests/registry/test_demo_story.py.
STORY_FIRMS = {
    "320583": 9000,  # 昆山市
    "320214": 6000,  # 新吴区 (无锡高新区)
    "320281": 4500,  # 江阴市
    "320282": 2500,  # 宜兴市
    "320206": 2500,  # 惠山区
    "320211": 2500,  # 滨湖区
    "320205": 2200,  # 锡山区
    "320213": 1800,  # 梁溪区
}
STORY_TOTAL = sum(STORY_FIRMS.values())
# The rest of Jiangsu, lighter: Suzhou, Nanjing and the other cities by weight.
CITY_WEIGHTS = {"320500": 5, "320100": 4, "320400": 2, "320600": 1.5}
OTHER_CITY_WEIGHT = 1.0
REST_FLOOR = 5000  # below STORY_TOTAL + this, everything shrinks together
# --small (tests): 昆山 at full size (its plans must read true), the other story regions at 5 %.
SMALL_REST = 600
SMALL_STORY_SHARE = 0.05


def layout(n_firms=None, small=False, regions=()):
    """Expected firms per region code, and the scale (< 1 when n_firms is below the story's size)."""
    codes = [r.code for r in regions]
    rest = [c for c in codes if c not in STORY_FIRMS]
    rest_weight = {c: CITY_WEIGHTS.get(c[:4] + "00", OTHER_CITY_WEIGHT) for c in rest}
    rest_total = sum(rest_weight.values()) or 1.0
    if small:
        story = {c: n * (1 if c == "320583" else SMALL_STORY_SHARE) for c, n in STORY_FIRMS.items()}
        rest_firms, scale = SMALL_REST, 1.0
    else:
        scale = min(1.0, n_firms / (STORY_TOTAL + REST_FLOOR))
        story = {c: n * scale for c, n in STORY_FIRMS.items()}
        rest_firms = n_firms - sum(story.values())
    weights = {c: story[c] for c in codes if c in story}
    weights.update({c: rest_firms * w / rest_total for c, w in rest_weight.items()})
    return weights, scale


def small_size():
    """How many firms --small generates."""
    return round(STORY_FIRMS["320583"] + SMALL_STORY_SHARE * (STORY_TOTAL - STORY_FIRMS["320583"]) + SMALL_REST)
INDICATOR_YEARS = (2023, 2024, 2025)
AUTHORITIES = {
    "tech_sme": "工业和信息化部中小企业局 / 江苏省科技厅",
    "tech_innovative_sme": "江苏省工业和信息化厅",
    "hnte": "江苏省高新技术企业认定管理工作协调小组",
    "gazelle_municipal": "市科学技术局",
    "gazelle_provincial": "江苏省生产力促进中心",
    "srdi_innovative": "江苏省工业和信息化厅",
    "srdi_sme": "江苏省工业和信息化厅",
    "srdi_little_giant": "工业和信息化部",
    "unicorn_seed": "市科学技术局",
    "unicorn_potential": "市科学技术局",
    "unicorn": "长城战略咨询",
}
BATCH_NAMES = ("第一批", "第二批", "第三批")
SRDI_TIERS = frozenset({"srdi_innovative", "srdi_sme", "srdi_little_giant"})
TECH_SME_TIERS = frozenset({"tech_sme", "tech_innovative_sme"})


@dataclass
class PlannedCert:
    tier: str
    issued_on: datetime.date
    valid_until: datetime.date
    certificate_no: str = ""
    batch: str = ""
    batch_year: int | None = None
    status: str = CertificationStatus.ACTIVE
    revoked_on: datetime.date | None = None
    renews: "PlannedCert | None" = None
    id: int = 0


@dataclass
class Plan:
    certs: list = field(default_factory=list)
    indicators: list = field(default_factory=list)


class DemoGenerator:
    def __init__(self, seed=1, today=None):
        self.rng = random.Random(seed)
        # A stream of its own: the details draw no number from `rng`, so a seed's firms stay the same.
        self.detail_rng = random.Random(f"{seed}:indicator-details")
        self.today = today or datetime.date.today()
        self.tiers = {t.code: t for t in Tier.objects.select_related("stage")}
        regions = list(
            Region.objects.filter(code__startswith="32", level__in=("district", "park")).order_by("code")
        )
        self.regions = regions
        self.region_weights = None
        self.scale = 1.0
        self.chains = {c.code: c.id for c in IndustryChain.objects.all()}
        self.serial = {}

    # --- recognition histories -------------------------------------------------------------

    def _number(self, tier, year, region_code):
        key = (tier, year)
        self.serial[key] = self.serial.get(key, 0) + 1
        n = self.serial[key]
        if tier == "hnte":
            return f"GR{year}32{n:06d}"
        if tier == "tech_sme":
            return f"{year}{region_code}{n:08d}"
        return ""

    def _add(self, plan, tier, issued, region_code, renews=None, months=None):
        rng = self.rng
        t = self.tiers[tier]
        valid_until = add_months(issued, months) - ONE_DAY if months else default_valid_until(t, issued, issued.year)
        batch_no = rng.choice(BATCH_NAMES[:2]) if not t.is_list_membership else ""
        cert = PlannedCert(
            tier=tier, issued_on=issued, valid_until=valid_until,
            certificate_no=self._number(tier, issued.year, region_code),
            batch=f"{issued.year} {batch_no}".strip(), batch_year=issued.year,
        )
        if renews is not None and renews.valid_until >= issued - RENEWAL_GRACE:
            cert.renews = renews
            renews.status = CertificationStatus.SUPERSEDED
        if rng.random() < 0.008 and tier in ("hnte", "srdi_sme", "srdi_little_giant"):
            cert.status = CertificationStatus.REVOKED
            cert.revoked_on = min(issued + datetime.timedelta(days=rng.randint(60, 700)), valid_until)
        plan.certs.append(cert)
        return cert

    def _date(self, year, months=(1, 12)):
        return D(year, self.rng.randint(*months), self.rng.randint(1, 28))

    def _founded(self):
        # More firms founded recently: the registry grows year on year, as the real lists do.
        last = min(2025, self.today.year - 1)
        year = last - min(int(self.rng.expovariate(1 / 7)), last - 2000)
        return D(year, self.rng.randint(1, 12), self.rng.randint(1, 28))

    def plan_history(self, founded, region_code):
        rng, plan, last_year = self.rng, Plan(), self.today.year
        if rng.random() < 0.10:
            return plan  # on file (an import, a cultivation pool) without any recognition yet
        # 科技型中小企业: evaluated yearly from the year after founding (2017 rules on); most
        # small firms re-register every year (it unlocks the R&D super-deduction) until they outgrow it.
        entry = max(2017, founded.year + rng.randint(1, 3))
        previous, year = None, entry
        while year <= last_year:
            issued = self._date(year, (4, 10))
            if issued > self.today:
                break
            tier = "tech_innovative_sme" if issued >= D(2026, 4, 1) and rng.random() < 0.3 else "tech_sme"
            previous = self._add(plan, tier, issued, region_code, renews=previous if previous and previous.tier == tier else None)
            year += 1 if rng.random() < 0.93 else 2
            if rng.random() < 0.07:  # grown out of SME size, or stopped applying
                break
        # 高新技术企业: three-year certificates, usually renewed.
        hnte_first = None
        if rng.random() < 0.72:
            year = max(2012, entry + rng.randint(0, 2))
            previous = None
            while year <= last_year:
                issued = self._date(year, (10, 12))
                if issued > self.today:
                    break
                cert = self._add(plan, "hnte", issued, region_code, renews=previous)
                hnte_first = hnte_first or cert
                if cert.status == CertificationStatus.REVOKED or rng.random() > 0.85:
                    break
                previous, year = cert, cert.valid_until.year
        # 瞪羚: young high-growth 高企 on a city list, re-listed while they keep growing.
        gazelle = None
        if hnte_first and rng.random() < 0.2:
            year = hnte_first.issued_on.year + rng.randint(1, 3)
            if year - founded.year <= 10:
                gazelle = self._relist(plan, "gazelle_municipal", year, (9, 11), region_code, keep=0.5, step=2)
                if gazelle and rng.random() < 0.25:
                    self._relist(plan, "gazelle_provincial", year + 1, (9, 11), region_code, keep=0.4, step=2)
        # 专精特新: 创新型 → 专精特新中小企业 → 小巨人 (2022 interim measures on).
        if rng.random() < (0.45 if hnte_first else 0.12):
            year = max(2022, entry + rng.randint(1, 4))
            issued = self._date(year, (3, 11))
            if year <= last_year and issued <= self.today:
                innovative = self._add(plan, "srdi_innovative", issued, region_code)
                if rng.random() < 0.4:
                    issued = innovative.issued_on + datetime.timedelta(days=rng.randint(90, 540))
                    if issued <= self.today:
                        sme = self._add(plan, "srdi_sme", issued, region_code)
                        if rng.random() < 0.18:
                            issued = sme.issued_on + datetime.timedelta(days=rng.randint(365, 800))
                            if issued <= self.today:
                                self._add(plan, "srdi_little_giant", issued, region_code)
        # 独角兽培育: yearly lists, from the gazelles; a few seeds become potentials, fewer unicorns.
        if gazelle and rng.random() < 0.35:
            year = gazelle.issued_on.year + 1
            tier = "unicorn_potential" if rng.random() < 0.55 else "unicorn_seed"
            listed = self._relist(plan, tier, year, (5, 6), region_code, keep=0.75, step=1)
            if listed and rng.random() < 0.04:
                self._relist(plan, "unicorn", plan.certs[-1].issued_on.year + 1, (5, 6), region_code, keep=0.9, step=1)
        for cert in plan.certs:
            if cert.status == CertificationStatus.ACTIVE and cert.valid_until < self.today:
                cert.status = CertificationStatus.EXPIRED
        return plan

    def _relist(self, plan, tier, year, months, region_code, keep, step):
        """A list membership from `year`, re-listed every `step` years with probability `keep`; the first entry."""
        first = None
        while year <= self.today.year:
            issued = self._date(year, months)
            if issued > self.today:
                break
            cert = self._add(plan, tier, issued, region_code)
            first = first or cert
            if self.rng.random() > keep:
                break
            year += step
        return first

    # --- indicators ------------------------------------------------------------------------

    def plan_indicators(self, plan, founded):
        rng = self.rng
        r = rng.random()
        years = INDICATOR_YEARS if r < 0.75 else INDICATOR_YEARS[:2] if r < 0.9 else ()
        top = max((self.tiers[c.tier].stage.rank for c in plan.certs), default=0)
        median = {0: 900, 10: 2500, 20: 8000, 30: 18000, 40: 15000, 50: 60000}[top]
        revenue = median * math.exp(rng.gauss(0, 0.8))
        hnte = any(c.tier == "hnte" for c in plan.certs)
        rows, previous = [], None
        for year in years:
            if year < founded.year:
                continue
            revenue = max(50.0, revenue * (1 + rng.gauss(0.15 if top >= 30 else 0.08, 0.2)))
            band = 0.05 if revenue <= 5000 else 0.04 if revenue <= 20000 else 0.03
            intensity = band + rng.uniform(-0.01, 0.04) if hnte else rng.uniform(0.005, 0.09)
            employees = max(5, int(revenue / rng.uniform(40, 120)))
            rev = round(revenue, 2)
            rows.append({
                "year": year,
                "revenue": rev,
                "revenue_growth": round(rev / previous - 1, 6) if previous else None,
                "rd_expense": round(revenue * max(intensity, 0.0), 2),
                "total_cost": round(revenue * rng.uniform(0.7, 0.95), 2),
                "employees": employees,
                "rd_staff": int(employees * rng.uniform(0.08, 0.45)),
                "ip_class1": int(rng.expovariate(0.5)) if hnte else int(rng.expovariate(1.5)),
                "ip_class2": int(rng.expovariate(0.15)),
                "invention_patents": int(rng.expovariate(0.35)),
                "hightech_revenue": round(revenue * (rng.uniform(0.55, 0.95) if hnte else rng.uniform(0, 0.7)), 2),
                "total_assets": round(revenue * rng.uniform(0.8, 1.8), 2),
                "debt_ratio": round(rng.uniform(0.15, 0.75), 4),
                "new_equity_financing": round(rng.uniform(500, 20000), 2) if rng.random() < 0.05 else 0,
                "valuation_usd": int(revenue * rng.uniform(2000, 6000)) if top == 50 else None,
            })
            previous = rev
        plan.indicators = rows

    def plan_details(self, plan):
        """补充年度指标 beside the yearly indicators, for the firms that would have filed them.

        高企 applicants report R&D inside China and the four innovation-capability items (国科发火〔2016〕195号
        guideline); 专精特新 applicants their main-business revenue. So most firms that hold or held a
        高企 or 专精特新 recognition carry them, some 科小 firms preparing for 高企 do, few others.
        Most pass the 高企 thresholds (domestic R&D ≥ 60 %, score > 70) and a realistic minority does
        not; an item a firm never reported stays unknown (null), never zero.
        """
        rng, tiers = self.detail_rng, {c.tier for c in plan.certs}
        hnte = "hnte" in tiers
        share = 0.7 if hnte or tiers & SRDI_TIERS else 0.3 if tiers & TECH_SME_TIERS else 0.05
        if not plan.indicators or rng.random() >= share:
            return []
        domestic = rng.uniform(0.85, 1.0) if rng.random() < 0.8 else rng.uniform(0.35, 0.75)
        main_share = rng.uniform(0.85, 1.0) if rng.random() < 0.7 else rng.uniform(0.5, 0.9)
        quality = rng.gauss(76 if hnte else 66, 9)  # innovation points the firm tends to earn, of 100
        scored = rng.random() < 0.85
        rows = []
        for row in plan.indicators:
            points = [None] * 4
            if scored:
                points = [max(0, min(top, round(quality * top / 100 + rng.gauss(0, top / 10))))
                          for top in (30, 30, 20, 20)]
            rows.append({
                "year": row["year"],
                "rd_expense_domestic": round(row["rd_expense"] * min(1.0, domestic + rng.uniform(-0.05, 0.05)), 2),
                "main_business_revenue": round(row["revenue"] * min(1.0, main_share + rng.uniform(-0.03, 0.03)), 2),
                "innovation_ip": points[0], "innovation_conversion": points[1],
                "innovation_rd_management": points[2], "innovation_growth": points[3],
            })
        return rows

    # --- writing ---------------------------------------------------------------------------

    def _unique_usccs(self, firms):
        """Redraw the (about 1 in 10^8 per chunk) codes already used, asking the database rather than
        keeping every code in memory: memory stays flat however many firms are generated."""
        while True:
            seen, clash = set(), []
            for row in firms:
                if row[1] in seen:
                    clash.append(row)
                seen.add(row[1])
            taken = set(Firm.objects.filter(uscc__in=list(seen)).values_list("uscc", flat=True))
            clash += [row for row in firms if row[1] in taken]
            if not clash:
                return
            for row in clash:
                row[1] = names.uscc(self.rng, row[7])

    def generate(self, n_firms=None, chunk_size=5000, progress=None, small=False, rebuild=True):
        """Insert n_firms firms (or the --small set) with their histories; returns row counts per table.

        With rebuild=False the caller runs rebuild_derived() itself (seed_demo, to show it as a phase).
        The candidates ranking is built as the chunks are written."""
        weights, self.scale = layout(n_firms, small, self.regions)
        self.region_weights = list(itertools.accumulate(weights.get(r.code, 0.0) for r in self.regions))
        if small:
            n_firms = small_size()
        next_id = {m: (m.objects.aggregate(m=Max("id"))["m"] or 0) + 1
                   for m in (Firm, Certification, IndicatorYear, IndicatorDetail)}
        counts = {"firms": 0, "certifications": 0, "indicators": 0, "indicator_details": 0, "chain_links": 0}
        stage_rank = {t.id: (t.stage.rank, t.rank) for t in self.tiers.values()}
        # COPY bypasses the services' firms_changed: the pipeline tables are stale until rebuilt.
        precomputed.mark_stale("demo generation running")
        # The candidates ranking is judged chunk by chunk, in each chunk's transaction (a firm's
        # judgement reads only its own facts): memory stays that of one chunk at any size, where one
        # judgement of every firm at the end would hold them all. It starts complete for `today`.
        candidate_ranks.rebuild(self.today)
        for number, start in enumerate(range(0, n_firms, chunk_size), 1):
            size = min(chunk_size, n_firms - start)
            with transaction.atomic():
                first_id = next_id[Firm]
                self._write_chunk(size, next_id, counts, stage_rank)
                if number & (number - 1) == 0:
                    # After 1, 2, 4, 8… chunks: PostgreSQL's statistics keep up with the growing
                    # tables, so the ranking's queries keep their plans (no-op elsewhere).
                    precomputed.analyze(Firm, Certification, IndicatorYear, IndicatorDetail)
                candidate_ranks.refresh_firms(range(first_id, next_id[Firm]))
            reset_queries()  # DEBUG keeps the last 9,000 statements; at this size that is memory that grows
            if progress:
                progress(size)
        reset_sequences()
        refresh_statistics(CandidateRank)
        if rebuild:
            self.rebuild_derived()
        return counts

    def rebuild_derived(self, step=None):
        """The precomputed pipeline tables, which COPY left stale (one set-based SQL pass: memory
        does not grow with the firms). `step(name)` is a context manager around it (seed_demo's phase)."""
        if step is None:
            precomputed.rebuild()
            return
        with step("pipeline tables"):
            precomputed.rebuild()

    def _write_chunk(self, size, next_id, counts, stage_rank):
        rng, now = self.rng, timezone.now()
        firms, certs, indicators, details, links, holdings = [], [], [], [], [], []
        chain_codes = list(self.chains)
        for _ in range(size):
            firm_id = next_id[Firm]
            next_id[Firm] += 1
            region = rng.choices(self.regions, cum_weights=self.region_weights)[0]
            founded = self._founded()
            chain = names.random_chain(rng)
            name = names.firm_name(rng, region.name, chain)
            profile = names.profile_for_chain(rng, chain)
            plan = self.plan_history(founded, region.code)
            self.plan_indicators(plan, founded)
            for cert in plan.certs:
                cert.id = next_id[Certification]
                next_id[Certification] += 1
            latest_id = None
            for row in plan.indicators:
                latest_id = next_id[IndicatorYear]
                next_id[IndicatorYear] += 1
                indicators.append((latest_id, firm_id, *(row[c] for c in INDICATOR_COLUMNS), "", now))
            for row in self.plan_details(plan):
                details.append((next_id[IndicatorDetail], firm_id, *(row[c] for c in DETAIL_COLUMNS), "", now))
                next_id[IndicatorDetail] += 1
            for cert in plan.certs:
                tier = self.tiers[cert.tier]
                certs.append((
                    cert.id, firm_id, tier.stage_id, tier.id, AUTHORITIES[cert.tier], tier.level, cert.batch,
                    cert.batch_year, cert.certificate_no, cert.issued_on, cert.issued_on, cert.valid_until,
                    cert.status, cert.revoked_on, "复核未通过" if cert.revoked_on else "",
                    cert.renews.id if cert.renews else None, "seed_demo", "", now, now,
                ))
                if cert.status in HOLDING_STATUSES and cert.issued_on <= self.today <= cert.valid_until:
                    holdings.append((firm_id, tier.stage_id, tier.id, *stage_rank[tier.id]))
            former = [names.former_name(rng, name)] if rng.random() < 0.12 else []
            capital = rng.choice((100, 200, 500, 1000, 2000, 3000, 5000, 10000))
            firms.append([
                firm_id, names.uscc(rng, region.code), "", name, normalize_name(name), json.dumps(former, ensure_ascii=False),
                founded, region.code, "", capital, profile["description"], profile["main_products"],
                profile["technologies"], "unlisted", None, None, latest_id, now, now,
            ])
            links.append((firm_id, self.chains[chain]))
            if rng.random() < 0.2:
                other = rng.choice(chain_codes)
                if other != chain:
                    links.append((firm_id, self.chains[other]))
        self._unique_usccs(firms)
        current = current_of(holdings)
        for row in firms:
            row[14], row[15] = current.get(row[0], (None, None))
        copy_rows(Firm, FIRM_COLUMNS, firms)
        copy_rows(Certification, CERT_COLUMNS, certs)
        copy_rows(IndicatorYear, ("id", "firm_id", *INDICATOR_COLUMNS, "source_name", "updated_at"), indicators)
        copy_rows(IndicatorDetail, ("id", "firm_id", *DETAIL_COLUMNS, "source_name", "updated_at"), details)
        copy_rows(Firm.chains.through, ("firm_id", "industrychain_id"), links)
        counts["firms"] += len(firms)
        counts["certifications"] += len(certs)
        counts["indicators"] += len(indicators)
        counts["indicator_details"] += len(details)
        counts["chain_links"] += len(links)


INDICATOR_COLUMNS = (
    "year", "revenue", "revenue_growth", "rd_expense", "total_cost", "employees", "rd_staff", "ip_class1",
    "ip_class2", "invention_patents", "hightech_revenue", "total_assets", "debt_ratio", "new_equity_financing",
    "valuation_usd",
)
DETAIL_COLUMNS = (
    "year", "rd_expense_domestic", "main_business_revenue", "innovation_ip", "innovation_conversion",
    "innovation_rd_management", "innovation_growth",
)
FIRM_COLUMNS = (
    "id", "uscc", "uscc_override_reason", "name", "name_normalized", "former_names", "founded_on", "region_id",
    "industry_code", "registered_capital", "description", "main_products", "technologies", "listing_status",
    "current_stage_id", "current_tier_id", "latest_indicators_id", "created_at", "updated_at",
)
CERT_COLUMNS = (
    "id", "firm_id", "stage_id", "tier_id", "authority", "level", "batch", "batch_year", "certificate_no",
    "issued_on", "valid_from", "valid_until", "status", "revoked_on", "revocation_reason", "renews_id",
    "source_name", "source_checksum", "created_at", "updated_at",
)


def refresh_statistics(*models):
    """PostgreSQL: planner statistics and visibility map for tables filled row by row (index-only scans)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")


def reset_sequences():
    """Explicit ids leave PostgreSQL sequences behind; move them past the rows we wrote."""
    if connection.vendor != "postgresql":
        return
    from django.core.management.color import no_style

    statements = connection.ops.sequence_reset_sql(no_style(), [Firm, Certification, IndicatorYear, IndicatorDetail,
                                                                Firm.chains.through])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)

