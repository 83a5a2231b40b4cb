"""Applying published lists to the registry: import jobs, row matching, the review list.

    job = create_job(path_or_upload, kind="recognitions", user=user, options={"tier": "hnte", "issued_on": "2024-12-01"})
    run_job(job)            # or importers.tasks.run_import.delay(job.id)

Each job runs in ONE transaction: a failed import leaves the registry as it was; a dry run is the
same run rolled back (the report is kept). Row errors and review items are written after the
registry transaction, with the file's own line numbers. Every registry write goes through
registry.services: firm lists set-based per chunk (record_firms), recognitions set-based per chunk
(registry.services.bulk), indicators and targets per row; `per_row` forces the per-row services.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import time
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
from registry.models import AliasKind, Firm, Region, Stage, Tier
from registry.names import normalize_name
from registry.services import record_certification, upsert_firm, upsert_indicators
from registry.services import bulk
from registry.services.aliases import add_firm_names
from registry.services.firms import record_firms
from registry.services.indicators import INDICATOR_FIELDS
from registry.services.targets import upsert_policy_target
from registry.signals import firms_changed
from search.indexing import schedule_index, suspend_indexing

from . import fastpath
from .cleaning import DATE_ORDERS, clean_values, detect_date_orders, parse_date, split_key_errors
from .eligibility_kinds import EligibilityAppliers
from .errors import CellError, JobTimedOut, NeedsReview, ReaderError, RowProblem, UnknownName  # noqa: F401
from .matching import Matcher
from .models import ImportJob, ImportKind, JobStatus, ReviewReason, ReviewStatus
from .readers import open_source
from .report import OUT_OF_SCOPE, Report

CHUNKSIZE = 5000
REQUIRED = {
    ImportKind.FIRMS: [("uscc",), ("name",)],
    ImportKind.RECOGNITIONS: [("uscc", "name")],
    ImportKind.INDICATORS: [("uscc", "name")],
    ImportKind.TARGETS: [("region_code", "region_name"), ("stage",), ("kind",), ("year",), ("target",)],
    ImportKind.ALIASES: [("uscc", "name"), ("aliases", "english_name", "former_names")],
    ImportKind.QUALIFICATIONS: [("uscc", "name"), ("qualification_kind",), ("level",), ("qualification_name",),
                                ("issued_on",)],
    ImportKind.DETAILS: [("uscc", "name")],
}
# Columns this importer reads beyond importers.columns' synonyms: a firm's other names.
EXTRA_FIELDS = {
    "former_names": ("曾用名", "原名称", "原企业名称", "曾用名称"),
    "aliases": ("别名", "简称", "企业简称", "品牌", "品牌名称", "alias", "aliases"),
    "english_name": ("英文名称", "英文名", "企业英文名称", "english name"),
}
RECOGNITION_OPTIONS = ("stage", "tier", "batch", "authority", "issued_on", "valid_until", "level", "batch_year")
FIRM_FIELDS = ("name", "founded_on", "main_products", "registered_capital")


class ImportRefused(Exception):
    """The import cannot start (permission, size, options); the message is for the user."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------------------------------------
# Starting a job


def jobs_visible_to(user):
    """Administrators see every job; others the jobs they started."""
    if permissions.is_admin(user):
        return ImportJob.objects.all()
    if user is None or not getattr(user, "is_authenticated", False):
        return ImportJob.objects.none()
    return ImportJob.objects.filter(created_by=user)


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
                    check_size(size)
                digest.update(chunk)
                out.write(chunk)
        return ImportJob.objects.create(
            created_by=user if getattr(user, "is_authenticated", False) else None, kind=kind, file_name=file_name,
            file_path=str(target), file_size=size, checksum=digest.hexdigest(), options=options, dry_run=dry_run,
        )
    except BaseException:  # refused, broken or killed upload: no orphan file left behind
        target.unlink(missing_ok=True)
        raise
    finally:
        if isinstance(source, (str, Path)):
            handle.close()


# ---------------------------------------------------------------------------------------------
# Running a job


NAME_SEPARATORS = re.compile(r"[;；、|\n]+")


def split_names(text):
    """A cell of other names: 零一万物；01.AI、Lingyi — separated by ； 、 | or line breaks (never by a
    comma, which English names contain)."""
    if not text:
        return []
    return [part.strip() for part in NAME_SEPARATORS.split(str(text)) if part.strip()]


def add_firm_aliases(firm, values, *, source="", actor=None, via=""):
    """The row's 别名/简称, 英文名称 and 曾用名 cells onto the firm; returns how many names were new."""
    added = add_firm_names(firm, aliases=split_names(values.get("english_name")), kind=AliasKind.ENGLISH,
                           source=source, actor=actor, via=via)
    return added + add_firm_names(firm, aliases=split_names(values.get("aliases")),
                                  former_names=split_names(values.get("former_names")), kind=AliasKind.OTHER,
                                  source=source, actor=actor, via=via)


def _messages(error):
    """ValidationError → [(field, message)]."""
    if hasattr(error, "error_dict"):
        return [(("" if f == "__all__" else f), m) for f, errs in error.message_dict.items() for m in errs]
    return [("", m) for m in error.messages]


class Run(EligibilityAppliers):
    """One pass over a job's file. What it finds goes to ``self.report`` (importers.report); names are
    matched by ``self.matcher`` (importers.matching); the apply_* methods write through registry.services."""

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
        self.report = Report(job)
        self.seen = {}  # dedupe key → (sheet, line) of the copy that counts
        self.held = []  # later copies, applied only if that copy is rejected
        self.region_paths = {code: path for code, path in Region.objects.values_list("code", "path")}
        self.scope = permissions.region_paths(self.user) if self.user is not None else None
        self._warnings = []  # (field, message) from the row being applied; see warn()/flush_warnings()
        # 江苏省2024年高新技术企业名单.xlsx: the province a list's file name starts with is its context
        self.context = self.options.get("region_context") or province_prefix(job.file_name)
        self._tier = None

    @property
    def scope(self):
        return self._scope

    @scope.setter
    def scope(self, value):
        self._scope = value
        self.matcher = Matcher(value, self.region_paths)

    # -- reporting (importers.report) ------------------------------------------------------

    @property
    def counts(self):
        return self.report.counts

    @property
    def row_errors(self):
        return self.report.row_errors

    @property
    def reviews(self):
        return self.report.reviews

    def error(self, line, sheet, field, message, code="invalid"):
        self.report.error(line, sheet, field, message, code)

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
        self.report.reject(row, problems)

    def review(self, row, values, reason, message, candidate=None, score=None):
        region = resolve_region(values.get("region")) if values.get("region") else None
        self.report.review(row, values, reason, message, candidate, score, region_id=region)

    # -- scope and lookups -----------------------------------------------------------------

    def check_scope(self, region_code, field="region"):
        """Refuse a region outside the importer's; the message (importers.report.OUT_OF_SCOPE) names no
        region, since a firm's region from the registry is not for someone who may not see the firm."""
        if self.scope is None or region_code is None:
            return
        path = self.region_paths.get(region_code, "")
        if not any(path.startswith(p) for p in self.scope):
            raise RowProblem(field, OUT_OF_SCOPE, "out_of_scope")

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
        return self.matcher.firm_by_name(name, region_text)

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
        try:
            for table in source.tables(sheet=self.options.get("sheet"), required=REQUIRED[self.kind],
                                       chunksize=CHUNKSIZE, fill_from_sheet=fill, extra_fields=EXTRA_FIELDS):
                self.read_table(table)
        finally:
            for sheet, reason in source.skipped_sheets:
                self.report.skip_sheet(sheet, reason)

    def read_table(self, table):
        if fastpath.applies(self, table):
            fastpath.run_table(self, table)
        else:
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
                self.release_held()
                self.counts["processed"] += len(batch)
                if self.progress:
                    self.progress(self)
        self.release_held()
        for line, reason in table.skipped:
            if reason != "above header":  # title rows are not lines a person would miss
                self.report.skip(table.sheet, line, reason)

    def dedupe_key(self, values):
        who = values.get("uscc") or "name:" + normalize_name(values.get("name"))
        if self.kind in (ImportKind.FIRMS, ImportKind.ALIASES):
            return who
        if self.kind in (ImportKind.INDICATORS, ImportKind.DETAILS):
            return who, str(values.get("year"))
        if self.kind == ImportKind.QUALIFICATIONS:
            return who, values.get("qualification_kind") or "", values.get("qualification_name") or "", \
                str(values.get("issued_on") or "")
        if self.kind == ImportKind.TARGETS:
            return tuple(str(values.get(k) or "") for k in ("region_code", "region_name", "stage", "tier", "kind", "year"))
        return who, values.get("tier") or "", values.get("certificate_no") or str(values.get("issued_on") or "")

    def key_fields(self):
        """Fields whose bad value rejects the row; any other bad value is a warning (issue 12)."""
        keys = {"uscc", "name"} | {f for req in REQUIRED[self.kind] for f in req}
        return keys | ({"issued_on"} if self.kind == ImportKind.RECOGNITIONS else set())

    def precheck(self, values, bad=frozenset()):
        """Problems in the fields the kind requires beyond the cells, so that a row with several
        problems reports them all at once instead of one per attempt."""
        problems = []
        if self.kind == ImportKind.RECOGNITIONS:
            try:
                self.tier_for(values)
            except RowProblem as problem:
                problems.append((problem.field, problem.message, problem.code))
            if not (values.get("issued_on") or self.options.get("issued_on")) and "issued_on" not in bad:
                problems.append(("issued_on", "No issue date: give --issued-on or a 发证日期/认定日期 column.",
                                 "required"))
        elif self.kind == ImportKind.INDICATORS and values.get("year") is None and "year" not in bad:
            problems.append(("year", "No year: add a 年度 column or name the sheet after the year.", "required"))
        if not values.get("uscc") and not values.get("name") and self.kind != ImportKind.TARGETS \
                and not bad & {"uscc", "name"}:
            problems.append(("uscc", "The row has neither a USCC nor a firm name.", "required"))
        return problems

    def prepare(self, row, units):
        rates = {"CNY": Decimal(self.options["usd_per_cny"])} if self.options.get("usd_per_cny") else None
        result = clean_values(row.values, units, date_orders=getattr(self, "date_orders", None), rates=rates)
        fatal, warnings = split_key_errors(result, self.key_fields())
        for error in warnings:
            self.warn(row.line, row.sheet, error.field, f"{error.message} (value left empty)")
        values = result.values
        problems = [(e.field, e.message, e.code) for e in fatal]
        problems += self.precheck(values, frozenset(e.field for e in result.errors + fatal))
        if problems:
            self.reject(row, problems)
            return None
        key = hash(self.dedupe_key(values))
        if key in self.seen:
            self.held.append((row, values, key))  # a duplicate, unless the first copy is rejected
            return None
        self.seen[key] = (row.sheet or "", row.line)
        if result.errors:  # only review errors left: a USCC failing its check digit
            self.review(row, values, ReviewReason.CHECKSUM, " ".join(e.message for e in result.errors))
            return None
        return row, values

    def release_held(self):
        """Later copies of a row: a duplicate of a copy that counts, or — when that copy was rejected —
        the copy that counts now (a valid row is never dropped for an invalid twin)."""
        held, self.held = self.held, []
        for row, values, key in held:
            first = self.seen[key]
            if first in self.report.rejected:
                self.seen[key] = (row.sheet or "", row.line)
                self.apply([(row, values)])
                continue
            self.counts["duplicates"] += 1
            where = f"line {first[1]}" if first[0] == (row.sheet or "") else f"{first[0]} line {first[1]}"
            self.reject(row, [("", f"Duplicate of {where}: not imported twice.", "duplicate")])

    def apply(self, ready):
        if self.kind == ImportKind.RECOGNITIONS and not self.per_row:
            return self.apply_recognitions_bulk(ready)
        if self.kind == ImportKind.FIRMS and not self.per_row:
            return self.apply_firms_bulk(ready)
        for row, values in ready:
            self.apply_one(row, values)

    def apply_one(self, row, values, **kwargs):
        applier = getattr(self, f"apply_{self.kind}")
        outcome = None
        try:
            with transaction.atomic():
                outcome = applier(values, line=row.line, **kwargs)
                if self.kind == ImportKind.FIRMS and any(values.get(f) for f in EXTRA_FIELDS):
                    firm = Firm.objects.get(uscc=values["uscc"])
                    if add_firm_aliases(firm, values, source=self.job.file_name, actor=self.user,
                                        via=self.via) and outcome == "unchanged":
                        outcome = "updated"
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

    def apply_aliases(self, values, *, line, firm=None, **_):
        """An alias list (企业名称/统一社会信用代码 + 别名/简称/英文名称/曾用名): the names are added to the firm."""
        firm = self.firm_for(values, create=False, firm=firm)
        self.check_scope(firm.region_id)
        added = add_firm_aliases(firm, values, source=self.job.file_name, actor=self.user, via=self.via)
        return "updated" if added else "unchanged"


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

    # -- firms, set-based (registry.services.firms.record_firms) -----------------------------

    def apply_firms_bulk(self, ready):
        """apply_firms for a chunk: the same checks per row (region from every clue, scope), then one
        record_firms call (one lookup, bulk writes, side effects once) instead of an upsert_firm per row."""
        known = bulk.firm_ids_by_uscc([v["uscc"] for _, v in ready if v.get("uscc")])
        rows, sources = [], []
        for row, values in ready:
            uscc = values.get("uscc")
            try:
                # as apply_firms: a known firm keeps its region unless the row names one (region or address)
                named = values.get("region") or values.get("address")
                code = self.region_code(values, required=uscc not in known) if uscc not in known or named else None
                if uscc in known:
                    self.check_scope(known[uscc][1])
                self.check_scope(code)
            except RowProblem as problem:
                self.reject(row, [(problem.field, problem.message, problem.code)])
                self.flush_warnings(row, keep=False)  # a rejected row's region warnings add nothing
                continue
            warnings, self._warnings = self._warnings, []
            fields = {k: values[k] for k in FIRM_FIELDS if values.get(k) is not None}
            if fields.get("registered_capital") is not None:
                fields["registered_capital_currency"] = values.get("registered_capital_currency") or "CNY"
            if code:
                fields["region"] = code
            rows.append({"uscc": uscc, **fields})
            sources.append((row, values, warnings))
        # checked: the USCCs passed cleaning.parse_uscc (a bad check digit went to the review list)
        results = record_firms(rows, actor=self.user, via=self.via, checked=True)
        named = [(values, result) for (_, values, _), result in zip(sources, results)
                 if result.error is None and any(values.get(f) for f in EXTRA_FIELDS)]
        firms = Firm.objects.in_bulk([values["uscc"] for values, _ in named], field_name="uscc")
        for values, result in named:  # the list's 曾用名/别名/英文名称 cells, as apply_one does per row
            if add_firm_aliases(firms[values["uscc"]], values, source=self.job.file_name, actor=self.user,
                                via=self.via) and result.outcome == "unchanged":
                result.outcome = "updated"
        for (row, _, warnings), result in zip(sources, results):
            if result.error is not None:
                self.reject(row, [(f, m, "invalid") for f, m in _messages(result.error)])
                continue
            self._warnings = warnings
            self.flush_warnings(row)
            self.counts[result.outcome] += 1

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
    """A job's counts and heartbeat written on a second connection (PostgreSQL), so importJob shows
    progress and the reaper sees the job alive while its own transaction is still open. One per job,
    closed when the job ends. (SQLite has one writer: there the reaper goes by IMPORT_TIMEOUT_SECONDS.)"""

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
                cursor.execute("UPDATE importers_importjob SET total = %s, processed = %s, heartbeat_at = %s "
                               "WHERE id = %s", [counts["total"], counts["processed"], timezone.now(), self.job.pk])
        except Exception:  # progress is a courtesy; never fail an import over it
            self.enabled = False
            self.close()

    def close(self):
        if self.side is not None:
            self.side.close()
            self.side = None


def timeout_seconds():
    return getattr(settings, "IMPORT_TIMEOUT_SECONDS", 3600)


def deadline_check(job):
    """A callable that raises JobTimedOut once the job has run past IMPORT_TIMEOUT_SECONDS; called
    between batches (readers' limits keep each batch short)."""
    limit = timeout_seconds()
    end = time.monotonic() + limit

    def check():
        if time.monotonic() > end:
            raise JobTimedOut(f"The import stopped after {limit:,} seconds (IMPORT_TIMEOUT_SECONDS); nothing was "
                              f"written. Split the file or ask an administrator to raise the limit.")

    return check


def public_message(job, text):
    """An error message as the user may see it: the stored copy's path and name replaced by the
    name the file was uploaded under."""
    text = str(text)
    if job.file_path:
        stored = Path(job.file_path)
        for secret in (str(stored), stored.name, str(stored.parent)):
            if secret:
                text = text.replace(secret, job.file_name)
    return text


def run_job(job, *, progress=None, per_row=None, fast=True):
    """Run a queued job to the end; returns the job with its status, counts, errors, review items and
    pending rows. Status: SUCCEEDED, PARTIAL or FAILED (importers.report.Report.status).

    Live search indexing is off while the job runs; the firms it changed are indexed in one pass
    once it has committed (search.indexing.schedule_index, in chunks on the search queue). A job
    that stops without getting here (killed, crashed process) is ended FAILED by the reaper
    (importers.lifecycle).
    """
    if not isinstance(job, ImportJob):
        job = ImportJob.objects.get(pk=job)
    now = timezone.now()
    job.status, job.started_at, job.heartbeat_at, job.message = JobStatus.RUNNING, now, now, ""
    job.worker = f"{socket.gethostname()}:{os.getpid()}"[:100]
    job.save(update_fields=["status", "started_at", "heartbeat_at", "message", "worker"])
    save_progress = ProgressWriter(job)
    check = deadline_check(job)
    report = lambda r: (check(), save_progress(r.counts), progress and progress(r))  # noqa: E731
    run = Run(job, progress=report, per_row=per_row, fast=fast)
    changed = array("q")  # every firm the job wrote, repeats allowed: 8 bytes an id, for lists of any length
    completed = False

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
            check()
            if job.dry_run:
                transaction.set_rollback(True)
        completed = True
        job.status = run.report.status()
        if job.status == JobStatus.FAILED:
            job.message = "Every row was rejected; see the row report."
        if not job.dry_run:
            schedule_index(changed)
    except (ReaderError, JobTimedOut) as error:
        job.status, job.message = JobStatus.FAILED, public_message(job, error)
    except Exception as error:  # the registry is rolled back; say what happened
        job.status, job.message = JobStatus.FAILED, public_message(job, f"{type(error).__name__}: {error}")
        if settings.DEBUG and getattr(settings, "IMPORT_RAISE", False):
            raise
    finally:
        firms_changed.disconnect(dispatch_uid=("import job", job.pk))
        save_progress.close()
    run.report.copy_to(job)
    job.finished_at = timezone.now()
    with transaction.atomic():
        job.save()
        if completed:  # a run that stopped half-way has no trustworthy row report
            run.report.save_rows(with_decisions=not job.dry_run)
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


def run_as(job, user):
    """A Run that applies one of the job's held rows for ``user``: their audit name and their regions."""
    run = Run(job, per_row=True)
    run.user, run.scope = user, (permissions.region_paths(user) if user is not None else None)
    return run


class HeldRow:
    """A review item or pending row in the shape the appliers take (line, sheet, raw)."""

    def __init__(self, held):
        self.line, self.sheet, self.raw = held.line, held.sheet, {}


def apply_held(run, held, values, **kwargs):
    """Apply a held row now; ImportRefused with every problem the row still has."""
    outcome = run.apply_one(HeldRow(held), values, **kwargs)
    if outcome is None:
        report = run.report
        problems = [e.message for e in report.row_errors] or [i.message for i in report.reviews + report.pending] \
            or ["the row could not be applied"]
        raise ImportRefused(" ".join(problems))
    return outcome


def check_row_region(values, firm, user=None):
    """The chosen firm must be in the user's regions, and a row that names its region may only go to
    a firm in that region (a 昆山市 row never lands on a 江阴 firm). The firm's own region is not
    named: the user may not be allowed to see it."""
    scope = permissions.region_paths(user) if user is not None else None
    if scope is not None and not any(firm.region.path.startswith(p) for p in scope):
        raise ImportRefused("The firm you chose is outside the regions you may import into.", field="firm")
    text = values.get("region")
    code = resolve_region(text) if text else None
    if code is None:
        return
    row_path = Region.objects.filter(code=code).values_list("path", flat=True).first() or ""
    if not firm.region.path.startswith(row_path):
        raise ImportRefused(f"The row is listed under {text}; the firm you chose is not in {text}.", field="firm")


def accept_review_item(item, user, *, override_reason="", firm=None):
    """Apply the row: to the candidate firm (name match) or with an override (bad check digit).

    A USCC failing its check digit needs an administrator and an override reason (recorded on
    the firm by upsert_firm). The chosen firm must be in the user's regions and in the region the
    row names. Returns the outcome ("created" / "updated" / "unchanged").
    """
    if item.status != ReviewStatus.PENDING:
        raise ImportRefused(f"This item is already {item.status}.")
    job = item.job
    if not can_import(user):
        raise ImportRefused("Only officers and administrators may accept imported rows.")
    values = dict(item.values)
    if item.reason == ReviewReason.CHECKSUM:
        if not permissions.is_admin(user):
            raise ImportRefused("Only an administrator may accept a USCC that fails its check digit.")
        if not (override_reason or "").strip():
            raise ImportRefused("Say why the code is accepted (override reason).", field="override_reason")
    else:
        firm = firm or item.candidate_firm
        if firm is None:
            raise ImportRefused("Choose the firm this row belongs to.", field="firm")
        check_row_region(values, firm, user)
    run = run_as(job, user)
    with transaction.atomic():
        outcome = apply_held(run, item, values, override_reason=override_reason, **({"firm": firm} if firm else {}))
        _decide(item, ReviewStatus.ACCEPTED, user, override_reason)
    return outcome


def reject_review_item(item, user, note=""):
    if item.status != ReviewStatus.PENDING:
        raise ImportRefused(f"This item is already {item.status}.")
    _decide(item, ReviewStatus.REJECTED, user, note)
    return item
