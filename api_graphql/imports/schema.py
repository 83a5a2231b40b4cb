"""GraphQL fields of the imports domain: `importJob(id)`, `startImport`, and the review list's
`acceptReviewItem` / `rejectReviewItem`.

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

from api_graphql.core.mutations import ErrorType
from api_graphql.core.permissions import request_user
from importers.models import ImportJob, ImportKind, ImportReviewItem
from importers.services import ImportRefused, accept_review_item, can_import, create_job, reject_review_item, run_job
from registry.models import Firm
from registry import permissions


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
    status = graphene.String(required=True, description="QUEUED, RUNNING, SUCCEEDED or FAILED.")
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
    errors = graphene.List(graphene.NonNull(ImportRowErrorType), required=True, first=graphene.Int(default_value=100))
    review_items = graphene.List(graphene.NonNull(ImportReviewItemType), required=True,
                                 first=graphene.Int(default_value=100))

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
    def resolve_review_items(job, info, first=100):
        return list(job.review_items.select_related("candidate_firm")[: max(0, min(first, 1000))])


def visible_jobs(user):
    """Administrators see every job; others the jobs they started."""
    if permissions.is_admin(user):
        return ImportJob.objects.all()
    if user is None or not user.is_authenticated:
        return ImportJob.objects.none()
    return ImportJob.objects.filter(created_by=user)


class ImportQuery:
    import_job = graphene.Field(ImportJobType, id=graphene.ID(required=True))

    @staticmethod
    def resolve_import_job(root, info, id):
        try:
            return visible_jobs(request_user(info)).filter(pk=int(id)).first()
        except (TypeError, ValueError):
            return None


class StartImport(graphene.Mutation):
    """Upload a list and start an import job; poll `importJob(id)` for progress and the report."""

    class Arguments:
        kind = graphene.String(required=True, description="firms, recognitions, indicators or targets.")
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


class ImportMutation:
    start_import = StartImport.Field()
    accept_review_item = AcceptReviewItem.Field()
    reject_review_item = RejectReviewItem.Field()
