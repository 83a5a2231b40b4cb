"""Applying published lists to the registry: import jobs, row matching, the review list.

    job = create_job(path_or_upload, kind="recognitions", user=user, options={"tier": "hnte", "issued_on": "2024-12-01"})
    run_job(job)            # or importers.tasks.run_import.delay(job.id)

Each job runs in ONE transaction: a failed import leaves the registry as it was; a dry run is the
same run rolled back (the report is kept). Row errors and review items are written after the
registry transaction, with the file's own line numbers. Every registry write goes through
registry.services (per row) or registry.services.bulk (recognitions, set-based per chunk).
"""

from __future__ import annotations

import datetime
import hashlib
import re
from array import array
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from registry import permissions
from registry.data import resolve_region
from registry.regions import province_prefix, resolve_row_region
from registry.models import Firm, Region, Stage, Tier
from registry.names import normalize_name
from registry.services import record_certification, upsert_firm, upsert_indicators
from registry.services import bulk
from registry.services.indicators import INDICATOR_FIELDS
from registry.services.targets import upsert_policy_target
from registry.signals import firms_changed
from search.indexing import schedule_index, suspend_indexing

from . import fastpath
from .cleaning import DATE_ORDERS, clean_values, detect_date_orders, parse_date, split_key_errors
from .errors import CellError, ReaderError
from .models import ImportJob, ImportKind, ImportReviewItem, ImportRowError, JobStatus, ReviewReason, ReviewStatus
from .readers import open_source

CHUNKSIZE = 5000
MAX_STORED_ERRORS = 20000  # rows past this are counted, not stored one by one
FUZZY_CUTOFF = 85
REQUIRED = {
    ImportKind.FIRMS: [("uscc",), ("name",)],
    ImportKind.RECOGNITIONS: [("uscc", "name")],
    ImportKind.INDICATORS: [("uscc", "name")],
    ImportKind.TARGETS: [("region_code", "region_name"), ("stage",), ("kind",), ("year",), ("target",)],
}
RECOGNITION_OPTIONS = ("stage", "tier", "batch", "authority", "issued_on", "valid_until", "level", "batch_year")
FIRM_FIELDS = ("name", "founded_on", "main_products", "registered_capital")


class ImportRefused(Exception):
    """The import cannot start (permission, size, options); the message is for the user."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


class RowProblem(Exception):
    def __init__(self, field, message, code="invalid"):
        super().__init__(message)
        self.field, self.message, self.code = field, message, code


class NeedsReview(Exception):
    def __init__(self, reason, message, candidate=None, score=None):
        super().__init__(message)
        self.reason, self.message, self.candidate, self.score = reason, message, candidate, score


# ---------------------------------------------------------------------------------------------
# Starting a job


def can_import(user):
    """Officers (into their regions) and administrators; analysts and investors cannot. None = system (CLI)."""
    if user is None:
        return True
    return permissions.role_of(user) in (permissions.Role.ADMIN, permissions.Role.OFFICER)


def max_upload_bytes():
    return settings.IMPORT_MAX_UPLOAD_BYTES


def check_size(size):
    limit = max_upload_bytes()
    if size > limit:
        raise ImportRefused(
            f"The file is {size:,} bytes; uploads are limited to {limit:,} bytes "
            f"({limit / 1024 / 1024:.0f} MiB, IMPORT_MAX_UPLOAD_BYTES).", field="file")


def clean_options(kind, options):
    """Check the options a user gave (codes exist, dates parse); return them JSON-safe."""
    if kind not in ImportKind.values:
        raise ImportRefused(f"Unknown import kind “{kind}”; one of {', '.join(ImportKind.values)}.", field="kind")
    options = {k: v for k, v in (options or {}).items() if v not in (None, "")}
    if options.get("stage") and not Stage.objects.filter(code=options["stage"]).exists():
        raise ImportRefused(f"Unknown stage code “{options['stage']}”.", field="stage")
    if options.get("tier"):
        tier = Tier.objects.filter(code=options["tier"]).first()
        if tier is None:
            raise ImportRefused(f"Unknown tier code “{options['tier']}”.", field="tier")
        if options.get("stage") and tier.stage.code != options["stage"]:
            raise ImportRefused(f"Tier “{tier.code}” is not a tier of stage “{options['stage']}”.", field="tier")
    for name in ("issued_on", "valid_until"):
        if options.get(name):
            try:
                options[name] = parse_date(options[name], name).isoformat()
            except CellError as error:
                raise ImportRefused(error.message, field=name) from None
    if options.get("batch_year"):
        options["batch_year"] = int(options["batch_year"])
    if options.get("date_order") and options["date_order"] not in DATE_ORDERS:
        raise ImportRefused(f"date_order must be one of {', '.join(DATE_ORDERS)} (month/day or day/month before "
                            f"the year), not “{options['date_order']}”.", field="date_order")
    if options.get("usd_per_cny"):  # a valuation in 亿元人民币 stored in US dollars needs the rate used
        try:
            rate = Decimal(str(options["usd_per_cny"]))
        except ArithmeticError:
            rate = Decimal(0)
        if not 0 < rate < 10:
            raise ImportRefused(f"usd_per_cny must be a positive rate such as 0.14, not “{options['usd_per_cny']}”.",
                                field="usd_per_cny")
        options["usd_per_cny"] = str(rate)
    if options.get("region_context") and not resolve_region(options["region_context"]):
        raise ImportRefused(f"Unknown region “{options['region_context']}” for the list's context.",
                            field="region_context")
    return options


def _imports_dir():
    path = Path(settings.VAR_DIR) / "imports" / timezone.now().strftime("%Y%m")
    path.mkdir(parents=True, exist_ok=True)
    return path


def create_job(source, *, kind, user=None, options=None, dry_run=False, file_name=None):
    """Store a copy of the file (VAR_DIR/imports), checksum it and record a queued job.

    `source`: a path, bytes, or a file object (an UploadedFile). Refuses with ImportRefused when
    the user may not import, the file is over IMPORT_MAX_UPLOAD_BYTES or the options are wrong.
    """
    if not can_import(user):
        raise ImportRefused("Only officers and administrators may import lists.", field="kind")
    options = clean_options(kind, options)
    if isinstance(source, (str, Path)):
        file_name = file_name or Path(source).name
        check_size(Path(source).stat().st_size)
        handle = open(source, "rb")
    elif isinstance(source, (bytes, bytearray)):
        import io

        check_size(len(source))
        handle = io.BytesIO(source)
    else:
        handle = source
        size = getattr(source, "size", None)
        if size is not None:
            check_size(size)
        file_name = file_name or Path(getattr(source, "name", "") or "upload").name
    file_name = file_name or "upload"
    safe = re.sub(r"[^\w.\-]+", "_", file_name)[-120:] or "upload"
    target = _imports_dir() / f"{timezone.now():%d%H%M%S%f}-{safe}"
    digest, size, limit = hashlib.sha256(), 0, max_upload_bytes()
    try:
        if hasattr(handle, "seek"):
            handle.seek(0)
        with open(target, "wb") as out:
            chunks = handle.chunks() if hasattr(handle, "chunks") else iter(lambda: handle.read(1 << 20), b"")
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    out.close()
                    target.unlink(missing_ok=True)
                    check_size(size)
                digest.update(chunk)
                out.write(chunk)
    finally:
        if isinstance(source, (str, Path)):
            handle.close()
    return ImportJob.objects.create(
        created_by=user if getattr(user, "is_authenticated", False) else None, kind=kind, file_name=file_name,
        file_path=str(target), file_size=size, checksum=digest.hexdigest(), options=options, dry_run=dry_run,
    )


# ---------------------------------------------------------------------------------------------
# Running a job


def _jsonable(values):
    out = {}
    for key, value in values.items():
        if isinstance(value, (datetime.date, datetime.datetime)):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        out[key] = value
    return out


def _messages(error):
    """ValidationError → [(field, message)]."""
    if hasattr(error, "error_dict"):
        return [(("" if f == "__all__" else f), m) for f, errs in error.message_dict.items() for m in errs]
    return [("", m) for m in error.messages]


class Run:
    """One pass over a job's file: counts, errors and review items collected in memory."""

    def __init__(self, job, *, progress=None, per_row=None, fast=True):
        self.job = job
        self.kind = job.kind
        self.options = dict(job.options)
        self.user = job.created_by
        self.via = job.via
        self.today = timezone.localdate()
        self.progress = progress
        self.per_row = per_row if per_row is not None else bool(self.options.get("per_row"))
        self.fast = fast  # importers.fastpath where it applies
        self.counts = dict.fromkeys(
            ("total", "processed", "created", "updated", "unchanged", "needs_review", "errors", "duplicates",
             "skipped", "firms_created"), 0)
        self.row_errors = []
        self.reviews = []
        self.seen = {}
        self.region_paths = {code: path for code, path in Region.objects.values_list("code", "path")}
        self.scope = permissions.region_paths(self.user) if self.user is not None else None
        self._fuzzy = {}
        self._warnings = []  # (field, message) from the row being applied; see warn()/flush_warnings()
        # 江苏省2024年高新技术企业名单.xlsx: the province a list's file name starts with is its context
        self.context = self.options.get("region_context") or province_prefix(job.file_name)
        self._former = None
        self._tier = None

    # -- reporting -------------------------------------------------------------------------

    def error(self, line, sheet, field, message, code="invalid"):
        if len(self.row_errors) < MAX_STORED_ERRORS:
            self.row_errors.append(ImportRowError(job=self.job, line=line, sheet=sheet or "", field=field or "",
                                                  message=message, code=code))

    def warn(self, line, sheet, field, message):
        """A problem that does not stop the row (a bad value in a column it does not need, clues that
        disagree): stored beside the errors with code "warning"; the row still counts as imported."""
        self.error(line, sheet, field, message, code="warning")

    def flush_warnings(self, row, keep=True):
        if keep:
            for field, message in dict.fromkeys(self._warnings):  # the region is looked up twice for a new firm
                self.warn(row.line, row.sheet, field, message)
        self._warnings = []

    def reject(self, row, problems):
        """problems: [(field, message, code)] — one row, counted once."""
        self.counts["errors"] += 1
        for field, message, code in problems:
            self.error(row.line, row.sheet, field, message, code)

    def review(self, row, values, reason, message, candidate=None, score=None):
        self.counts["needs_review"] += 1
        self.reviews.append(ImportReviewItem(
            job=self.job, line=row.line, sheet=row.sheet or "", reason=reason, message=message,
            values=_jsonable(values), raw=_jsonable({str(k): v for k, v in row.raw.items()}),
            candidate_firm_id=candidate.id if candidate is not None else None, score=score,
        ))

    # -- scope and lookups -----------------------------------------------------------------

    def check_scope(self, region_code, field="region"):
        if self.scope is None or region_code is None:
            return
        path = self.region_paths.get(region_code, "")
        if not any(path.startswith(p) for p in self.scope):
            raise RowProblem(field, f"Region {region_code} is outside the regions you may import into.", "out_of_scope")

    def region_code(self, values, *, required):
        """The row's region from every clue it has (registry.regions.resolve_row_region): region text,
        province/city/address columns, the list's context, the USCC's division code. Disagreeing
        clues become warnings; an ambiguous or unknown region text is a row problem."""
        if isinstance(values, str) or values is None:
            values = {"region": values}
        found = resolve_row_region(values.get("region"), province=values.get("province"), city=values.get("city"),
                                   address=values.get("address"), uscc=values.get("uscc"), context=self.context)
        if found.problem:
            raise RowProblem("region", found.problem, "unknown_region")
        self._warnings.extend(("region", w) for w in found.warnings)
        if found.code is None and required:
            raise RowProblem("region", "A new firm needs a region (所在地区); the row has none.", "required")
        return found.code

    def firm_by_name(self, name, region_text):
        """Exact normalised name (also former names), narrowed by region; else fuzzy → review."""
        key = normalize_name(name)
        firms = list(Firm.objects.filter(name_normalized=key).select_related("region"))
        if not firms:
            if self._former is None:
                self._former = {}
                for firm_id, former in Firm.objects.exclude(former_names=[]).values_list("id", "former_names"):
                    for old in former or ():
                        self._former.setdefault(normalize_name(old), set()).add(firm_id)
            ids = self._former.get(key, ())
            firms = list(Firm.objects.filter(id__in=ids).select_related("region"))
        region_code = resolve_region(region_text) if region_text else None
        if len(firms) > 1 and region_code:
            path = self.region_paths.get(region_code, "")
            firms = [f for f in firms if f.region.path.startswith(path)] or firms
        if len(firms) == 1:
            return firms[0]
        if len(firms) > 1:
            raise NeedsReview(ReviewReason.AMBIGUOUS, f"{len(firms)} firms are named “{name}”; choose one.",
                              candidate=firms[0])
        from rapidfuzz import fuzz, process

        scope_key = region_code or ""
        if scope_key not in self._fuzzy:
            query = Firm.objects.all()
            if region_code:
                query = query.filter(region__path__startswith=self.region_paths.get(region_code, ""))
            self._fuzzy[scope_key] = dict(query.values_list("id", "name_normalized"))
        choices = self._fuzzy[scope_key]
        best = process.extractOne(key, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        if best:
            _, score, firm_id = best
            firm = Firm.objects.get(id=firm_id)
            raise NeedsReview(ReviewReason.FUZZY_NAME,
                              f"No firm is named exactly “{name}”; the closest is “{firm.name}” "
                              f"({score:.0f}/100). Confirm or reject the match.", candidate=firm, score=round(score, 1))
        raise RowProblem("name", f"No firm named “{name}” in the registry, and the row has no USCC to create it.",
                         "unknown_firm")

    def tier_for(self, values):
        text = values.get("tier")
        if text:
            tier = Tier.objects.select_related("stage").filter(code=text).first() or \
                Tier.objects.select_related("stage").filter(name=text).first()
            if tier is None:
                raise RowProblem("tier", f"Unknown tier “{text}”.", "unknown_tier")
            return tier
        if self._tier is None:
            if self.options.get("tier"):
                self._tier = Tier.objects.select_related("stage").get(code=self.options["tier"])
            elif self.options.get("stage"):
                tiers = list(Tier.objects.select_related("stage").filter(stage__code=self.options["stage"]))
                if len(tiers) != 1:
                    raise RowProblem("tier", f"Stage “{self.options['stage']}” has {len(tiers)} tiers; give --tier "
                                             f"({', '.join(t.code for t in tiers)}).", "required")
                self._tier = tiers[0]
            else:
                raise RowProblem("tier", "Which recognition is this? Give --tier/--stage or a 类别 column.", "required")
        return self._tier

    # -- the loop --------------------------------------------------------------------------

    def execute(self):
        source = open_source(self.job.file_path, name=self.job.file_name)
        fill = ("year", "region") if self.kind == ImportKind.RECOGNITIONS else ("year",)
        for table in source.tables(sheet=self.options.get("sheet"), required=REQUIRED[self.kind],
                                   chunksize=CHUNKSIZE, fill_from_sheet=fill):
            if fastpath.applies(self, table):
                fastpath.run_table(self, table)
                self.counts["skipped"] += len([s for s in table.skipped if s[1] != "above header"])
                continue
            sheet_region_ok = "region" not in table.from_sheet or resolve_region(table.from_sheet["region"])
            for batch in table.batches():
                ready = []
                self.date_orders = {f: self.options["date_order"] for f in table.fields} \
                    if self.options.get("date_order") else detect_date_orders([r.values for r in batch], table.fields)
                for row in batch:
                    self.counts["total"] += 1
                    if not sheet_region_ok and "region" in table.from_sheet:
                        row.values.pop("region", None)
                    prepared = self.prepare(row, table.units)
                    if prepared is not None:
                        ready.append(prepared)
                self.apply(ready)
                self.counts["processed"] += len(batch)
                if self.progress:
                    self.progress(self)
            self.counts["skipped"] += len([s for s in table.skipped if s[1] != "above header"])

    def dedupe_key(self, values):
        who = values.get("uscc") or "name:" + normalize_name(values.get("name"))
        if self.kind == ImportKind.FIRMS:
            return who
        if self.kind == ImportKind.INDICATORS:
            return who, str(values.get("year"))
        if self.kind == ImportKind.TARGETS:
            return tuple(str(values.get(k) or "") for k in ("region_code", "region_name", "stage", "tier", "kind", "year"))
        return who, values.get("tier") or "", values.get("certificate_no") or str(values.get("issued_on") or "")

    def key_fields(self):
        """Fields whose bad value rejects the row; any other bad value is a warning (issue 12)."""
        keys = {"uscc", "name"} | {f for req in REQUIRED[self.kind] for f in req}
        return keys | ({"issued_on"} if self.kind == ImportKind.RECOGNITIONS else set())

    def prepare(self, row, units):
        rates = {"CNY": Decimal(self.options["usd_per_cny"])} if self.options.get("usd_per_cny") else None
        result = clean_values(row.values, units, date_orders=getattr(self, "date_orders", None), rates=rates)
        fatal, warnings = split_key_errors(result, self.key_fields())
        if fatal:
            self.reject(row, [(e.field, e.message, e.code) for e in fatal])
            return None
        for error in warnings:
            self.warn(row.line, row.sheet, error.field, f"{error.message} (value left empty)")
        values = result.values
        key = hash(self.dedupe_key(values))
        first = self.seen.get(key)
        where = (row.sheet, row.line)
        if first is not None:
            self.counts["duplicates"] += 1
            self.reject(row, [("", f"Duplicate of {'line' if first[0] == row.sheet else first[0] + ' line'} "
                                   f"{first[1]}: not imported twice.", "duplicate")])
            return None
        self.seen[key] = where
        if result.errors:  # only review errors left: a USCC failing its check digit
            error = result.errors[0]
            self.review(row, values, ReviewReason.CHECKSUM, error.message)
            return None
        return row, values

    def apply(self, ready):
        if self.kind == ImportKind.RECOGNITIONS and not self.per_row:
            return self.apply_recognitions_bulk(ready)
        for row, values in ready:
            self.apply_one(row, values)

    def apply_one(self, row, values, **kwargs):
        applier = getattr(self, f"apply_{self.kind}")
        outcome = None
        try:
            with transaction.atomic():
                outcome = applier(values, line=row.line, **kwargs)
        except RowProblem as problem:
            self.reject(row, [(problem.field, problem.message, problem.code)])
            return None
        except NeedsReview as review:
            self.review(row, values, review.reason, review.message, review.candidate, review.score)
            return None
        except ValidationError as error:
            self.reject(row, [(f, m, "invalid") for f, m in _messages(error)])
            return None
        except IntegrityError as error:
            self.reject(row, [("", f"Conflicts with a record already stored ({error}).", "conflict")])
            return None
        finally:
            self.flush_warnings(row, keep=outcome is not None)  # a rejected row's warnings add nothing
        self.counts[outcome] += 1
        return outcome

    # -- per kind (per row, through registry.services) --------------------------------------

    def apply_firms(self, values, *, line, override_reason=""):
        existing = Firm.objects.filter(uscc=values["uscc"]).select_related("region").first()
        # A known firm keeps its region unless the row names one (a region or address, not just a province);
        # a new one takes its region from every clue, the USCC's division included.
        named = values.get("region") or values.get("address")
        code = self.region_code(values, required=existing is None) if existing is None or named else None
        if existing is not None:
            self.check_scope(existing.region_id)
        self.check_scope(code)
        fields = {k: values[k] for k in FIRM_FIELDS if values.get(k) is not None}
        if fields.get("registered_capital") is not None:
            fields["registered_capital_currency"] = values.get("registered_capital_currency") or "CNY"
        if code:
            fields["region"] = code
        _, outcome = upsert_firm(values["uscc"], actor=self.user, via=self.via, override_reason=override_reason,
                                 **fields)
        return outcome

    def firm_for(self, values, *, create, override_reason="", firm=None):
        """The row's firm: by USCC, else by exact name; a recognition may create it from the row."""
        if firm is not None:
            return firm
        uscc = values.get("uscc")
        if not uscc:
            if not values.get("name"):
                raise RowProblem("uscc", "The row has neither a USCC nor a firm name.", "required")
            return self.firm_by_name(values["name"], values.get("region"))
        found = Firm.objects.filter(uscc=uscc).first()
        if found is not None:
            return found
        if not create:
            raise RowProblem("uscc", f"No firm with USCC {uscc} in the registry; import the firm list first.",
                             "unknown_firm")
        code = self.region_code(values, required=True)
        self.check_scope(code)
        if not values.get("name"):
            raise RowProblem("name", "A new firm needs a name; the row has none.", "required")
        found, _ = upsert_firm(uscc, actor=self.user, via=self.via, override_reason=override_reason,
                               name=values["name"], region=code)
        self.counts["firms_created"] += 1
        return found

    def recognition_details(self, values, line):
        tier = self.tier_for(values)
        details = {}
        for name in ("authority", "batch", "level"):
            value = values.get(name) or self.options.get(name)
            if value:
                details[name] = value
        batch_year = self.options.get("batch_year")
        if batch_year is None and details.get("batch") and (m := re.search(r"(19|20)\d{2}", details["batch"])):
            batch_year = int(m.group(0))
        if batch_year:
            details["batch_year"] = batch_year
        if values.get("certificate_no"):
            details["certificate_no"] = values["certificate_no"]
        details.update(source_name=self.job.file_name, source_row=line, source_checksum=self.job.checksum,
                       import_job_id=self.job.pk)
        issued_on = values.get("issued_on") or self.options.get("issued_on")
        if not issued_on:
            raise RowProblem("issued_on", "No issue date: give --issued-on or a 发证日期/认定日期 column.", "required")
        return tier, issued_on, values.get("valid_until") or self.options.get("valid_until"), details

    def apply_recognitions(self, values, *, line, override_reason="", firm=None):
        tier, issued_on, valid_until, details = self.recognition_details(values, line)
        self.region_code(values, required=False)  # an unknown region is reported, even for a known firm
        firm = self.firm_for(values, create=True, override_reason=override_reason, firm=firm)
        self.check_scope(firm.region_id)
        _, outcome = record_certification(firm, tier, issued_on, valid_until=valid_until, actor=self.user,
                                          via=self.via, today=self.today, **details)
        return outcome

    def apply_indicators(self, values, *, line, override_reason="", firm=None):
        firm = self.firm_for(values, create=False, firm=firm)
        self.check_scope(firm.region_id)
        if values.get("year") is None:
            raise RowProblem("year", "No year: add a 年度 column or name the sheet after the year.", "required")
        data = {k: values[k] for k in INDICATOR_FIELDS if values.get(k) is not None}
        data.update(source_name=self.job.file_name, source_row=line)
        _, outcome = upsert_indicators(firm, values["year"], data, actor=self.user, via=self.via)
        return outcome

    def apply_targets(self, values, *, line, **_):
        code = values.get("region_code") or None
        if code and code not in self.region_paths:
            raise RowProblem("region_code", f"Unknown region code “{code}”.", "unknown_region")
        if code is None:
            code = self.region_code({"region": values.get("region_name")}, required=True)
        self.check_scope(code)
        _, outcome = upsert_policy_target(
            code, values.get("stage"), values.get("tier"), values.get("kind"), values.get("year"),
            values.get("target"), start_year=values.get("start_year"), source=values.get("source") or "",
            note=values.get("note") or "", actor=self.user, via=self.via)
        return outcome

    # -- recognitions, set-based (registry.services.bulk) ------------------------------------

    def create_firms(self, to_create, known):
        """bulk.create_firms for {uscc: (uscc, name, region)}; adds them to `known`."""
        created = bulk.create_firms(list(to_create.values()), actor=self.user, via=self.via)
        self.counts["firms_created"] += len(created)
        self.chunk_firms.extend(created.values())
        known.update({uscc: (firm_id, to_create[uscc][2]) for uscc, firm_id in created.items()})

    def apply_recognitions_bulk(self, ready):
        items, rows = [], []
        self.chunk_firms = []
        known = bulk.firm_ids_by_uscc([v["uscc"] for _, v in ready if v.get("uscc")])
        to_create = {}
        staged = []
        for row, values in ready:
            try:
                tier, issued_on, valid_until, details = self.recognition_details(values, row.line)
                item = bulk.prepare_certification(tier, issued_on, valid_until=valid_until, **details)
                self.region_code(values, required=False)
                uscc = values.get("uscc")
                if not uscc:
                    if to_create:  # a name is matched against the firms the rows above created, as per row
                        self.create_firms(to_create, known)
                        to_create = {}
                    with transaction.atomic():
                        firm = self.firm_for(values, create=False)
                    self.check_scope(firm.region_id)
                    staged.append((row, item, firm.id, None))
                elif uscc in known:
                    self.check_scope(known[uscc][1])
                    staged.append((row, item, None, uscc))
                else:
                    if uscc not in to_create:
                        code = self.region_code(values, required=True)
                        self.check_scope(code)
                        if not values.get("name"):
                            raise RowProblem("name", "A new firm needs a name; the row has none.", "required")
                        if len(values["name"]) > 200:
                            raise RowProblem("name", "The name is longer than 200 characters.")
                        to_create[uscc] = (uscc, values["name"].strip(), code)
                    staged.append((row, item, None, uscc))
                self.flush_warnings(row)
            except RowProblem as problem:
                self.reject(row, [(problem.field, problem.message, problem.code)])
            except NeedsReview as review:
                self.review(row, values, review.reason, review.message, review.candidate, review.score)
            except ValidationError as error:
                self.reject(row, [(f, m, "invalid") for f, m in _messages(error)])
            self.flush_warnings(row, keep=False)  # a rejected row's region warnings add nothing
        self.create_firms(to_create, known)
        for row, item, firm_id, uscc in staged:
            item["firm_id"] = firm_id or known[uscc][0]
            items.append(item)
            rows.append(row)
        results = bulk.bulk_record_certifications(items, actor=self.user, via=self.via, today=self.today,
                                                  created_firm_ids=self.chunk_firms)
        for row, result in zip(rows, results):
            if result[1] == "error":
                self.reject(row, [("", result[2], "conflict")])
            else:
                self.counts[result[1]] += 1


class ProgressWriter:
    """A job's counts written on a second connection (PostgreSQL), so importJob shows progress while the
    job's own transaction is still open. One per job, closed when the job ends."""

    def __init__(self, job):
        self.job, self.side = job, None
        self.enabled = connection.vendor == "postgresql"

    def __call__(self, counts):
        if not self.enabled or not connection.in_atomic_block:
            return
        try:
            if self.side is None:
                self.side = connections.create_connection("default")
            with self.side.cursor() as cursor:
                cursor.execute("UPDATE importers_importjob SET total = %s, processed = %s WHERE id = %s",
                               [counts["total"], counts["processed"], self.job.pk])
        except Exception:  # progress is a courtesy; never fail an import over it
            self.enabled = False
            self.close()

    def close(self):
        if self.side is not None:
            self.side.close()
            self.side = None


def run_job(job, *, progress=None, per_row=None, fast=True):
    """Run a queued job to the end; returns the job with its counts, errors and review items.

    Live search indexing is off while the job runs; the firms it changed are indexed in one pass
    once it has committed (search.indexing.schedule_index, in chunks on the search queue).
    """
    if not isinstance(job, ImportJob):
        job = ImportJob.objects.get(pk=job)
    job.status, job.started_at, job.message = JobStatus.RUNNING, timezone.now(), ""
    job.save(update_fields=["status", "started_at", "message"])
    save_progress = ProgressWriter(job)
    report = lambda r: (save_progress(r.counts), progress and progress(r))  # noqa: E731
    run = Run(job, progress=report, per_row=per_row, fast=fast)
    changed = array("q")  # every firm the job wrote, repeats allowed: 8 bytes an id, for lists of any length

    def collect(sender, firm_ids=(), **kwargs):
        changed.extend(firm_ids)

    firms_changed.connect(collect, weak=False, dispatch_uid=("import job", job.pk))
    try:
        with suspend_indexing(), transaction.atomic():
            try:
                with transaction.atomic():
                    run.execute()
            except fastpath.OrderSensitive:  # rolled back to the savepoint: apply the file in order
                del changed[:]
                run = Run(job, progress=report, per_row=per_row, fast=False)
                run.execute()
            if job.dry_run:
                transaction.set_rollback(True)
        job.status = JobStatus.SUCCEEDED
        if not job.dry_run:
            schedule_index(changed)
    except ReaderError as error:
        job.status, job.message = JobStatus.FAILED, str(error)
    except Exception as error:  # the registry is rolled back; say what happened
        job.status, job.message = JobStatus.FAILED, f"{type(error).__name__}: {error}"
        if settings.DEBUG and getattr(settings, "IMPORT_RAISE", False):
            raise
    finally:
        firms_changed.disconnect(dispatch_uid=("import job", job.pk))
        save_progress.close()
    for name, value in run.counts.items():
        setattr(job, name, value)
    job.finished_at = timezone.now()
    with transaction.atomic():
        job.save()
        if job.status == JobStatus.SUCCEEDED:
            ImportRowError.objects.bulk_create(run.row_errors, batch_size=1000)
            if not job.dry_run:
                ImportReviewItem.objects.bulk_create(run.reviews, batch_size=1000)
    return job


def import_file(source, *, kind, user=None, options=None, dry_run=False, file_name=None, per_row=None, progress=None,
                fast=True):
    """create_job + run_job in one call (command line, tests)."""
    job = create_job(source, kind=kind, user=user, options=options, dry_run=dry_run, file_name=file_name)
    return run_job(job, per_row=per_row, progress=progress, fast=fast)


# ---------------------------------------------------------------------------------------------
# The review list


def _decide(item, status, user, note):
    item.status, item.decided_by, item.decided_at, item.decision_note = status, user, timezone.now(), note
    item.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])


def accept_review_item(item, user, *, override_reason="", firm=None):
    """Apply the row: to the candidate firm (name match) or with an override (bad check digit).

    A USCC failing its check digit needs an administrator and an override reason (recorded on
    the firm by upsert_firm). Returns the outcome ("created" / "updated" / "unchanged").
    """
    if item.status != ReviewStatus.PENDING:
        raise ImportRefused(f"This item is already {item.status}.")
    job = item.job
    if not can_import(user):
        raise ImportRefused("Only officers and administrators may accept imported rows.")
    if item.reason == ReviewReason.CHECKSUM:
        if not permissions.is_admin(user):
            raise ImportRefused("Only an administrator may accept a USCC that fails its check digit.")
        if not (override_reason or "").strip():
            raise ImportRefused("Say why the code is accepted (override reason).", field="override_reason")
    else:
        firm = firm or item.candidate_firm
        if firm is None:
            raise ImportRefused("Choose the firm this row belongs to.", field="firm")
    job.created_by = user
    run = Run(job, per_row=True)
    run.user, run.scope = user, (permissions.region_paths(user) if user is not None else None)
    values = dict(item.values)

    class _Row:
        line, sheet, raw = item.line, item.sheet, {}

    with transaction.atomic():
        outcome = run.apply_one(_Row, values, override_reason=override_reason, **({"firm": firm} if firm else {}))
        if outcome is None:
            problem = run.row_errors[-1].message if run.row_errors else "the row could not be applied"
            raise ImportRefused(problem)
        _decide(item, ReviewStatus.ACCEPTED, user, override_reason)
    return outcome


def reject_review_item(item, user, note=""):
    if item.status != ReviewStatus.PENDING:
        raise ImportRefused(f"This item is already {item.status}.")
    _decide(item, ReviewStatus.REJECTED, user, note)
    return item
