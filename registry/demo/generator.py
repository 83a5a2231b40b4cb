"""A deterministic, realistic demo registry: Jiangsu firms whose recognition histories follow the ladder.

Streams in chunks of firms with explicit primary keys and bulk inserts, so a million firms
generate in bounded memory. Each firm's current stage is decided by the same `current_of` the
services use; the seed bypasses per-row services on purpose (no audit rows for synthetic data).
"""

import datetime
import json
import math
import random
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from registry.analytics import precomputed
from registry.eligibility import precomputed as candidate_ranks
from registry.demo import names
from registry.models import (
    Certification, CertificationStatus, Firm, IndicatorYear, IndustryChain, Region, Tier,
)
from registry.names import normalize_name
from registry.services.ladder import add_months, default_valid_until
from registry.services.certifications import RENEWAL_GRACE
from registry.services.writes import copy_rows
from registry.services.stage import HOLDING_STATUSES, current_of

D = datetime.date
ONE_DAY = datetime.timedelta(days=1)
# Where firms are: Suzhou and Wuxi districts dominate the lists this product serves.
CITY_WEIGHTS = {"320500": 5, "320200": 3, "320100": 3, "320400": 2, "320600": 1.5}
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
        self.today = today or datetime.date.today()
        self.tiers = {t.code: t for t in Tier.objects.select_related("stage")}
        regions = list(
            Region.objects.filter(code__startswith="32", level__in=("district", "park")).order_by("code")
        )
        self.regions = regions
        self.region_weights = [CITY_WEIGHTS.get(r.code[:4] + "00", 1.0) for r in regions]
        self.chains = {c.code: c.id for c in IndustryChain.objects.all()}
        self.serial = {}
        self.used_usccs = set(Firm.objects.values_list("uscc", flat=True)) if Firm.objects.exists() else set()

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

    def plan_history(self, founded, region_code):
        rng, plan, last_year = self.rng, Plan(), self.today.year
        if rng.random() > 0.85:
            return plan
        # 科技型中小企业: evaluated yearly from the year after founding (2017 rules on).
        entry = max(2017, founded.year + rng.randint(1, 3))
        previous, year = None, entry
        while year <= last_year:
            issued = self._date(year, (4, 10))
            if issued > self.today:
                break
            tier = "tech_innovative_sme" if issued >= D(2026, 4, 1) and rng.random() < 0.3 else "tech_sme"
            previous = self._add(plan, tier, issued, region_code, renews=previous if previous and previous.tier == tier else None)
            year += 1 if rng.random() < 0.8 else 2
            if rng.random() < 0.3:  # most firms stop re-registering once they are 高企 or grow out of SME size
                break
        # 高新技术企业: three-year certificates, usually renewed.
        hnte_first = None
        if rng.random() < 0.55:
            year = max(2008, entry + rng.randint(0, 3))
            previous = None
            while year <= last_year:
                issued = self._date(year, (10, 12))
                if issued > self.today:
                    break
                cert = self._add(plan, "hnte", issued, region_code, renews=previous)
                hnte_first = hnte_first or cert
                if cert.status == CertificationStatus.REVOKED or rng.random() > 0.78:
                    break
                previous, year = cert, cert.valid_until.year
        # 瞪羚: young high-growth 高企 on a city list.
        gazelle = None
        if hnte_first and rng.random() < 0.22:
            year = hnte_first.issued_on.year + rng.randint(1, 3)
            if year - founded.year <= 10 and year <= last_year and self._date(year, (9, 11)) <= self.today:
                gazelle = self._add(plan, "gazelle_municipal", self._date(year, (9, 11)), region_code)
                if rng.random() < 0.25 and year + 1 <= last_year and D(year + 1, 11, 30) <= self.today:
                    self._add(plan, "gazelle_provincial", self._date(year + 1, (9, 11)), region_code)
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
        # 独角兽培育: rare, from the gazelles.
        if gazelle and rng.random() < 0.06:
            year = gazelle.issued_on.year + 1
            if year <= last_year and D(year, 6, 30) <= self.today:
                self._add(plan, "unicorn_potential", self._date(year, (5, 6)), region_code)
                if rng.random() < 0.1 and year + 1 <= last_year and D(year + 1, 6, 30) <= self.today:
                    self._add(plan, "unicorn", self._date(year + 1, (5, 6)), region_code)
        for cert in plan.certs:
            if cert.status == CertificationStatus.ACTIVE and cert.valid_until < self.today:
                cert.status = CertificationStatus.EXPIRED
        return plan

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

    # --- writing ---------------------------------------------------------------------------

    def _new_uscc(self, region_code):
        while True:
            code = names.uscc(self.rng, region_code)
            if code not in self.used_usccs:
                self.used_usccs.add(code)
                return code

    def generate(self, n_firms, chunk_size=5000, progress=None):
        """Insert n_firms firms with their histories; returns row counts per table."""
        next_id = {m: (m.objects.aggregate(m=Max("id"))["m"] or 0) + 1 for m in (Firm, Certification, IndicatorYear)}
        counts = {"firms": 0, "certifications": 0, "indicators": 0, "chain_links": 0}
        stage_rank = {t.id: (t.stage.rank, t.rank) for t in self.tiers.values()}
        # COPY bypasses the services' firms_changed: the pipeline tables are stale until rebuilt below.
        precomputed.mark_stale("demo generation running")
        candidate_ranks.mark_stale("demo generation running")
        for start in range(0, n_firms, chunk_size):
            size = min(chunk_size, n_firms - start)
            with transaction.atomic():
                self._write_chunk(size, next_id, counts, stage_rank)
            if progress:
                progress(size)
        reset_sequences()
        precomputed.rebuild()
        candidate_ranks.rebuild(self.today)
        return counts

    def _write_chunk(self, size, next_id, counts, stage_rank):
        rng, now = self.rng, timezone.now()
        firms, certs, indicators, links, holdings = [], [], [], [], []
        chain_codes = list(self.chains)
        for _ in range(size):
            firm_id = next_id[Firm]
            next_id[Firm] += 1
            region = rng.choices(self.regions, weights=self.region_weights)[0]
            founded = D(rng.randint(2003, min(2024, self.today.year - 1)), rng.randint(1, 12), rng.randint(1, 28))
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
                firm_id, self._new_uscc(region.code), "", name, normalize_name(name), json.dumps(former, ensure_ascii=False),
                founded, region.code, "", capital, profile["description"], profile["main_products"],
                profile["technologies"], "unlisted", None, None, latest_id, now, now,
            ])
            links.append((firm_id, self.chains[chain]))
            if rng.random() < 0.2:
                other = rng.choice(chain_codes)
                if other != chain:
                    links.append((firm_id, self.chains[other]))
        current = current_of(holdings)
        for row in firms:
            row[14], row[15] = current.get(row[0], (None, None))
        copy_rows(Firm, FIRM_COLUMNS, firms)
        copy_rows(Certification, CERT_COLUMNS, certs)
        copy_rows(IndicatorYear, ("id", "firm_id", *INDICATOR_COLUMNS, "source_name", "updated_at"), indicators)
        copy_rows(Firm.chains.through, ("firm_id", "industrychain_id"), links)
        counts["firms"] += len(firms)
        counts["certifications"] += len(certs)
        counts["indicators"] += len(indicators)
        counts["chain_links"] += len(links)


INDICATOR_COLUMNS = (
    "year", "revenue", "revenue_growth", "rd_expense", "total_cost", "employees", "rd_staff", "ip_class1",
    "ip_class2", "invention_patents", "hightech_revenue", "total_assets", "debt_ratio", "new_equity_financing",
    "valuation_usd",
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


def reset_sequences():
    """Explicit ids leave PostgreSQL sequences behind; move them past the rows we wrote."""
    if connection.vendor != "postgresql":
        return
    from django.core.management.color import no_style

    statements = connection.ops.sequence_reset_sql(no_style(), [Firm, Certification, IndicatorYear, Firm.chains.through])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)

