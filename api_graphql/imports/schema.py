"""GraphQL fields of the imports domain: `importJob(id)` (its row errors paged by `errorPage`),
`startImport`, the review list's `acceptReviewItem` / `rejectReviewItem`, and pending rows
(`importPendingRows`, `attachPendingRow`, `createFirmForPendingRow`, `dismissPendingRow`).

File upload, two ways (docs/importers.md):
- multipart per the GraphQL multipart request spec (operations + map + files) at
  `/graphql/upload` (api_graphql/imports/views.py), the file bound to the `file: Upload` argument;
- or `fileBase64` + `fileName` in a plain JSON request to /graphql (small files: the JSON body
  counts against DATA_UPLOAD_MAX_MEMORY_SIZE).
"""

import base64
import binascii

import graphene
from django.conf import settings
from django.db import transaction

from django.urls import reverse

from api_graphql.core.mutations import ErrorType
from api_graphql.core.pagination import CountableConnection, keyset_connection
from api_graphql.core.permissions import request_user
from importers.models import ImportKind, ImportReviewItem
from importers.pending import attach_pending_row, create_firm_for_pending, dismiss_pending_row, pending_rows_visible_to
from importers.services import (
    ImportRefused, accept_review_item, can_import, create_job, jobs_visible_to, reject_review_item, run_job,
)
from registry.models import Firm


class Upload(graphene.Scalar):
    """A file sent as a multipart part (GraphQL multipart request spec); null in JSON requests."""

    @staticmethod
    def serialize(value):
        return None

    @staticmethod
    def parse_value(value):
        return value

    @staticmethod
    def parse_literal(node, _variables=None):
        return None


class ImportRowErrorType(graphene.ObjectType):
    row = graphene.Int(required=True, description="The file's own line number (spreadsheet row).")
    sheet = graphene.String()
    field = graphene.String()
    code = graphene.String()
    message = graphene.String(required=True)

    @staticmethod
    def resolve_row(error, info):
        return error.line


class ImportRowErrorConnection(CountableConnection):
    class Meta:
        node = ImportRowErrorType


class SkippedLineType(graphene.ObjectType):
    sheet = graphene.String()
    row = graphene.Int(required=True)
    reason = graphene.String(required=True)


class SkippedSheetType(graphene.ObjectType):
    sheet = graphene.String(required=True)
    reason = graphene.String(required=True)


class ImportPendingRowType(graphene.ObjectType):
    """A name-only row whose name no firm has (待匹配): attach it to a firm or create the firm."""

    id = graphene.ID(required=True)
    job_id = graphene.ID(required=True)
    row = graphene.Int(required=True)
    sheet = graphene.String()
    name = graphene.String(required=True)
    region_code = graphene.String()
    status = graphene.String(required=True, description="PENDING, ATTACHED, CREATED or DISMISSED.")
    firm_uscc = graphene.String(description="The firm it was attached to or created as.")
    note = graphene.String()

    @staticmethod
    def resolve_job_id(row, info):
        return row.job_id

    @staticmethod
    def resolve_row(row, info):
        return row.line

    @staticmethod
    def resolve_region_code(row, info):
        return row.region_id

    @staticmethod
    def resolve_status(row, info):
        return row.status.upper()

    @staticmethod
    def resolve_firm_uscc(row, info):
        return row.firm.uscc if row.firm_id else None


class ImportPendingRowConnection(CountableConnection):
    class Meta:
        node = ImportPendingRowType


class ImportReviewItemType(graphene.ObjectType):
    id = graphene.ID(required=True)
    row = graphene.Int(required=True)
    sheet = graphene.String()
    reason = graphene.String(required=True)
    message = graphene.String(required=True)
    status = graphene.String(required=True)
    score = graphene.Float()
    candidate_uscc = graphene.String()

    @staticmethod
    def resolve_row(item, info):
        return item.line

    @staticmethod
    def resolve_candidate_uscc(item, info):
        return item.candidate_firm.uscc if item.candidate_firm_id else None


class ImportJobType(graphene.ObjectType):
    id = graphene.ID(required=True)
    kind = graphene.String(required=True)
    status = graphene.String(required=True, description="QUEUED, RUNNING, SUCCEEDED, PARTIAL (some rows rejected, "
                                                        "held for review or pending) or FAILED.")
    message = graphene.String(description="Why the whole file failed, when it did.")
    file_name = graphene.String()
    checksum = graphene.String()
    dry_run = graphene.Boolean()
    created_at = graphene.DateTime()
    finished_at = graphene.DateTime()
    total = graphene.Int()
    processed = graphene.Int()
    created = graphene.Int()
    updated = graphene.Int()
    unchanged = graphene.Int()
    needs_review = graphene.Int()
    error_count = graphene.Int()
    duplicates = graphene.Int()
    skipped = graphene.Int()
    pending = graphene.Int(description="Name-only rows waiting for an officer (pendingRows).")
    firms_created = graphene.Int()
    errors = graphene.List(graphene.NonNull(ImportRowErrorType), required=True, first=graphene.Int(default_value=100),
                           description="The first row errors (at most 1,000); errorPage pages through all of them.")
    error_page = graphene.Field(ImportRowErrorConnection, required=True, first=graphene.Int(), after=graphene.String(),
                                description="Every problem of every rejected row, in file order, page by page.")
    review_items = graphene.List(graphene.NonNull(ImportReviewItemType), required=True,
                                 first=graphene.Int(default_value=100))
    pending_rows = graphene.Field(ImportPendingRowConnection, required=True, first=graphene.Int(),
                                  after=graphene.String())
    skipped_lines = graphene.List(graphene.NonNull(SkippedLineType), required=True,
                                  description="Lines left out (blank, footnote, total, repeated header), with why.")
    skipped_sheets = graphene.List(graphene.NonNull(SkippedSheetType), required=True,
                                   description="Sheets left out (hidden, no table), with why.")
    rejected_rows_url = graphene.String(description="Download of the rejected rows with their reasons, to fix and "
                                                    "import again (none when no row was rejected).")

    @staticmethod
    def resolve_status(job, info):
        return job.status.upper()

    @staticmethod
    def resolve_error_count(job, info):
        return job.errors

    @staticmethod
    def resolve_errors(job, info, first=100):
        return list(job.row_errors.all()[: max(0, min(first, 1000))])

    @staticmethod
    def resolve_error_page(job, info, first=None, after=None):
        return keyset_connection(ImportRowErrorConnection, job.row_errors.all(), first=first, after=after,
                                 kind="import-errors")

    @staticmethod
    def resolve_review_items(job, info, first=100):
        return list(job.review_items.select_related("candidate_firm")[: max(0, min(first, 1000))])

    @staticmethod
    def resolve_pending_rows(job, info, first=None, after=None):
        return keyset_connection(ImportPendingRowConnection, job.pending_rows.select_related("firm"), first=first,
                                 after=after, kind="import-pending", count_queryset=job.pending_rows.all())

    @staticmethod
    def resolve_skipped_lines(job, info):
        return [SkippedLineType(sheet=sheet, row=line, reason=reason) for sheet, line, reason in job.skipped_lines or ()]

    @staticmethod
    def resolve_skipped_sheets(job, info):
        return [SkippedSheetType(sheet=sheet, reason=reason) for sheet, reason in job.skipped_sheets or ()]

    @staticmethod
    def resolve_rejected_rows_url(job, info):
        return reverse("import-rejected-rows", args=[job.pk]) if job.errors else None


visible_jobs = jobs_visible_to


class ImportQuery:
    import_job = graphene.Field(ImportJobType, id=graphene.ID(required=True))
    import_pending_rows = graphene.Field(
        ImportPendingRowConnection, required=True, first=graphene.Int(), after=graphene.String(),
        status=graphene.String(description="PENDING (default), ATTACHED, CREATED, DISMISSED or ALL."),
        description="Pending rows of the imports you can see (your own; every one for administrators).")

    @staticmethod
    def resolve_import_pending_rows(root, info, first=None, after=None, status="PENDING"):
        rows = pending_rows_visible_to(request_user(info))
        if (status or "").upper() != "ALL":
            rows = rows.filter(status=(status or "PENDING").lower())
        return keyset_connection(ImportPendingRowConnection, rows.select_related("firm"), first=first, after=after,
                                 kind="pending-rows", count_queryset=rows)

    @staticmethod
    def resolve_import_job(root, info, id):
        try:
            return visible_jobs(request_user(info)).filter(pk=int(id)).first()
        except (TypeError, ValueError):
            return None


class StartImport(graphene.Mutation):
    """Upload a list and start an import job; poll `importJob(id)` for progress and the report."""

    class Arguments:
        kind = graphene.String(required=True, description="firms, recognitions, indicators, targets or aliases.")
        file = Upload(description="The file, as a multipart part (POST /graphql/upload).")
        file_base64 = graphene.String(description="Or the file's bytes, base64-encoded.")
        file_name = graphene.String()
        stage = graphene.String()
        tier = graphene.String()
        batch = graphene.String()
        authority = graphene.String()
        issued_on = graphene.String()
        valid_until = graphene.String()
        sheet = graphene.String()
        dry_run = graphene.Boolean(default_value=False)

    import_job = graphene.Field(ImportJobType)
    errors = graphene.List(graphene.NonNull(ErrorType), required=True)

    @staticmethod
    def mutate(root, info, kind, file=None, file_base64=None, file_name=None, dry_run=False, **options):
        user = request_user(info)
        if file is None and not file_base64:
            return StartImport(errors=[ErrorType(field="file", message="Send the file (multipart) or fileBase64.")])
        if file is None:
            limit = settings.IMPORT_MAX_UPLOAD_BYTES
            if len(file_base64) * 3 // 4 > limit + 3:
                return StartImport(errors=[ErrorType(
                    field="fileBase64", code="too_large",
                    message=f"The file is larger than the upload limit of {limit:,} bytes (IMPORT_MAX_UPLOAD_BYTES).")])
            try:
                file = base64.b64decode(file_base64, validate=True)
            except (binascii.Error, ValueError):
                return StartImport(errors=[ErrorType(field="fileBase64", message="Not valid base64.")])
        if kind not in ImportKind.values:
            return StartImport(errors=[ErrorType(field="kind", message=f"Unknown import kind “{kind}”; one of "
                                                                       f"{', '.join(ImportKind.values)}.")])
        try:
            job = create_job(file, kind=kind, user=user, options=options, dry_run=dry_run, file_name=file_name)
        except ImportRefused as error:
            field = {"issued_on": "issuedOn", "valid_until": "validUntil"}.get(error.field, error.field)
            return StartImport(errors=[ErrorType(field=field, message=str(error))])
        if settings.CELERY_TASK_ALWAYS_EAGER:
            job = run_job(job)  # embedded set-up: the report is in the answer
        else:
            from importers.tasks import run_import

            transaction.on_commit(lambda: run_import.delay(job.pk))
        return StartImport(import_job=job, errors=[])


def _review_item(user, id):
    """A pending or decided item of a job the user can see, if the user may decide items at all."""
    if user is None or not user.is_authenticated or not can_import(user):
        return None
    try:
        return ImportReviewItem.objects.filter(job__in=visible_jobs(user), pk=int(id)).select_related("job").first()
    except (TypeError, ValueError):
        return None


class AcceptReviewItem(graphene.Mutation):
    """Apply a row held for review: to the candidate firm (or `firmUscc`), or — administrators only,
    with a reason — a USCC that fails its check digit. Officers only within their regions."""

    class Arguments:
        id = graphene.ID(required=True)
        firm_uscc = graphene.String(description="The firm the row belongs to, if not the candidate.")
        override_reason = graphene.String(description="Why a code failing its check digit is accepted.")

    review_item = graphene.Field(ImportReviewItemType)
    outcome = graphene.String(description="created, updated or unchanged.")
    errors = graphene.List(graphene.NonNull(ErrorType), required=True)

    @staticmethod
    def mutate(root, info, id, firm_uscc=None, override_reason=""):
        user = request_user(info)
        item = _review_item(user, id)
        if item is None:
            return AcceptReviewItem(errors=[ErrorType(field="id", message="No such review item for you.")])
        firm = None
        if firm_uscc:
            firm = Firm.objects.filter(uscc=firm_uscc.strip().upper()).first()
            if firm is None:
                return AcceptReviewItem(errors=[ErrorType(field="firmUscc", message=f"No firm with USCC {firm_uscc}.")])
        try:
            outcome = accept_review_item(item, user, override_reason=override_reason or "", firm=firm)
        except ImportRefused as error:
            field = {"override_reason": "overrideReason", "firm": "firmUscc"}.get(error.field, error.field or "id")
            return AcceptReviewItem(review_item=item, errors=[ErrorType(field=field, message=str(error))])
        return AcceptReviewItem(review_item=item, outcome=outcome, errors=[])


class RejectReviewItem(graphene.Mutation):
    """Reject a row held for review (nothing is imported); the note says why."""

    class Arguments:
        id = graphene.ID(required=True)
        note = graphene.String()

    review_item = graphene.Field(ImportReviewItemType)
    errors = graphene.List(graphene.NonNull(ErrorType), required=True)

    @staticmethod
    def mutate(root, info, id, note=""):
        user = request_user(info)
        item = _review_item(user, id)
        if item is None:
            return RejectReviewItem(errors=[ErrorType(field="id", message="No such review item for you.")])
        try:
            reject_review_item(item, user, note or "")
        except ImportRefused as error:
            return RejectReviewItem(review_item=item, errors=[ErrorType(field="id", message=str(error))])
        return RejectReviewItem(review_item=item, errors=[])


def _pending_row(user, id):
    if user is None or not user.is_authenticated or not can_import(user):
        return None
    try:
        return pending_rows_visible_to(user).filter(pk=int(id)).select_related("job").first()
    except (TypeError, ValueError):
        return None


def _refusal(error, fields=None):
    field = (fields or {}).get(error.field, error.field or "id")
    return [ErrorType(field=field, message=str(error))]


class AttachPendingRow(graphene.Mutation):
    """The pending row is this firm's: apply it to the firm (in your regions, in the row's region) and
    keep its name as the firm's alias, so the next list with this name matches by itself."""

    class Arguments:
        id = graphene.ID(required=True)
        firm_uscc = graphene.String(required=True)
        note = graphene.String()

    pending_row = graphene.Field(ImportPendingRowType)
    outcome = graphene.String(description="created, updated or unchanged.")
    errors = graphene.List(graphene.NonNull(ErrorType), required=True)

    @staticmethod
    def mutate(root, info, id, firm_uscc, note=""):
        user = request_user(info)
        row = _pending_row(user, id)
        if row is None:
            return AttachPendingRow(errors=[ErrorType(field="id", message="No such pending row for you.")])
        firm = Firm.objects.filter(uscc=firm_uscc.strip().upper()).select_related("region").first()
        if firm is None:
            return AttachPendingRow(pending_row=row, errors=[ErrorType(field="firmUscc",
                                                                       message=f"No firm with USCC {firm_uscc}.")])
        try:
            outcome = attach_pending_row(row, user, firm, note=note or "")
        except ImportRefused as error:
            return AttachPendingRow(pending_row=row, errors=_refusal(error, {"firm": "firmUscc"}))
        return AttachPendingRow(pending_row=row, outcome=outcome, errors=[])


class CreateFirmForPendingRow(graphene.Mutation):
    """The firm is not in the registry yet: create it under this USCC (region: the one given, else the
    row's, else the USCC's division code), then apply the row to it."""

    class Arguments:
        id = graphene.ID(required=True)
        uscc = graphene.String(required=True)
        region = graphene.String(description="Region code or name, if neither the row nor the USCC says it.")
        note = graphene.String()

    pending_row = graphene.Field(ImportPendingRowType)
    outcome = graphene.String()
    errors = graphene.List(graphene.NonNull(ErrorType), required=True)

    @staticmethod
    def mutate(root, info, id, uscc, region=None, note=""):
        user = request_user(info)
        row = _pending_row(user, id)
        if row is None:
            return CreateFirmForPendingRow(errors=[ErrorType(field="id", message="No such pending row for you.")])
        try:
            _, outcome = create_firm_for_pending(row, user, uscc=uscc, region=region, note=note or "")
        except ImportRefused as error:
            return CreateFirmForPendingRow(pending_row=row, errors=_refusal(error))
        return CreateFirmForPendingRow(pending_row=row, outcome=outcome, errors=[])


class DismissPendingRow(graphene.Mutation):
    """Not a firm the registry keeps: the row is closed without importing it."""

    class Arguments:
        id = graphene.ID(required=True)
        note = graphene.String()

    pending_row = graphene.Field(ImportPendingRowType)
    errors = graphene.List(graphene.NonNull(ErrorType), required=True)

    @staticmethod
    def mutate(root, info, id, note=""):
        user = request_user(info)
        row = _pending_row(user, id)
        if row is None:
            return DismissPendingRow(errors=[ErrorType(field="id", message="No such pending row for you.")])
        try:
            dismiss_pending_row(row, user, note or "")
        except ImportRefused as error:
            return DismissPendingRow(pending_row=row, errors=_refusal(error))
        return DismissPendingRow(pending_row=row, errors=[])


class ImportMutation:
    start_import = StartImport.Field()
    accept_review_item = AcceptReviewItem.Field()
    reject_review_item = RejectReviewItem.Field()
    attach_pending_row = AttachPendingRow.Field()
    create_firm_for_pending_row = CreateFirmForPendingRow.Field()
    dismiss_pending_row = DismissPendingRow.Field()
