"""名单导入 (imports): upload a published list with its options, the dry-run preview, live progress,
the full row report (paged), the rejected rows as a file to fix and re-import, and the review queue.

Everything goes through importers.services (create_job / run_job, accept_review_item /
reject_review_item) and the Celery task the GraphQL `startImport` mutation uses; who may see which
job is the API's rule (api_graphql.imports.schema.visible_jobs: administrators every job, others the
jobs they started). Only roles allowed to import reach these views (web.navigation, "imports").
"""

from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from api_graphql.imports.schema import visible_jobs
from importers import exports
from importers.models import ImportKind, ImportReviewItem, JobStatus, ReviewStatus
from importers.services import ImportRefused, accept_review_item, create_job, reject_review_item, run_job
from registry import permissions
from registry.models import Firm
from web import choices
from web.access import page

REPORT_PAGE = 50
REVIEW_PAGE = 20
RECENT_JOBS = 20
FINISHED = {JobStatus.SUCCEEDED, JobStatus.PARTIAL, JobStatus.FAILED}


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("名单文件"), help_text=gettext_lazy("CSV 或 Excel（.xlsx/.xls），按发布的原样上传"))
    kind = forms.ChoiceField(label=gettext_lazy("名单类型"), choices=ImportKind.choices, initial=ImportKind.RECOGNITIONS)
    dry_run = forms.BooleanField(label=gettext_lazy("试导入（只出报告，不写入）"), required=False, initial=True)
    stage = forms.ChoiceField(label=gettext_lazy("阶段"), required=False)
    tier = forms.ChoiceField(label=gettext_lazy("层级"), required=False)
    batch = forms.CharField(label=gettext_lazy("批次"), required=False, max_length=100)
    authority = forms.CharField(label=gettext_lazy("认定机构"), required=False, max_length=200)
    issued_on = forms.DateField(label=gettext_lazy("发证日期"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(label=gettext_lazy("有效期至"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    sheet = forms.CharField(label=gettext_lazy("工作表"), required=False, max_length=100,
                            help_text=gettext_lazy("Excel 有多个工作表时填写；留空则读取全部"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        blank = [("", "—")]  # the page's language throughout (web.choices)
        self.fields["kind"].choices = [(value, choices.in_page_language(label)) for value, label in ImportKind.choices]
        self.fields["stage"].choices = blank + choices.stage_choices(blank=False)
        self.fields["tier"].choices = blank + choices.tier_choices()[1:]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(_("文件过大（%(size)s 字节），上限为 %(limit)s 字节。")
                                        % {"size": f"{upload.size:,}", "limit": f"{limit:,}"}, code="too_large")
        return upload

    def options(self):
        data = self.cleaned_data
        options = {name: data[name] for name in ("stage", "tier", "batch", "authority", "sheet") if data.get(name)}
        for name in ("issued_on", "valid_until"):
            if data.get(name):
                options[name] = data[name].isoformat()
        return options


def dispatch(job):
    """Run the job as the GraphQL `startImport` mutation does: in-process in the embedded set-up
    (the report is ready at once), else on a Celery worker once this request's transaction commits."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return run_job(job)
    from importers.tasks import run_import

    transaction.on_commit(lambda: run_import.delay(job.pk))
    return job


def _refused(form, error):
    field = {"firm": "firm_uscc"}.get(error.field, error.field)
    field = field if field in form.fields else None
    form.add_error(field, str(error))


@page("imports")
def imports_page(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = create_job(upload, kind=form.cleaned_data["kind"], user=request.user, options=form.options(),
                             dry_run=form.cleaned_data["dry_run"], file_name=upload.name)
        except ImportRefused as error:
            _refused(form, error)
        else:
            dispatch(job)
            return redirect("web:import_job", job_id=job.pk)
    jobs = visible_jobs(request.user).order_by("-created_at", "-id")[:RECENT_JOBS]
    pending = ImportReviewItem.objects.filter(job__in=visible_jobs(request.user), status=ReviewStatus.PENDING).count()
    return render(request, "web/imports/imports.html", {"form": form, "jobs": jobs, "pending": pending},
                  status=400 if form.errors else 200)


def job_for(request, job_id):
    """A job the user may see; another user's job is a 404, like one that does not exist."""
    return get_object_or_404(visible_jobs(request.user), pk=job_id)


def job_context(job):
    running = job.status not in FINISHED
    return {"job": job, "running": running,
            "percent": int(100 * job.processed / job.total) if job.total else (100 if not running else 0),
            "has_rejected_file": bool(job.errors) and not running}


@page("imports")
def job_page(request, job_id):
    job = job_for(request, job_id)
    errors = Paginator(job.row_errors.order_by("sheet", "line", "id"), REPORT_PAGE)
    context = job_context(job)
    context.update({
        "errors_page": errors.get_page(request.GET.get("page") or 1),
        "reviews": job.review_items.filter(status=ReviewStatus.PENDING).count(),
        "can_rerun": job.dry_run and job.status in (JobStatus.SUCCEEDED, JobStatus.PARTIAL) and Path(job.file_path or "/").is_file(),
    })
    return render(request, "web/imports/job.html", context)


@page("imports")
def job_progress(request, job_id):
    """The progress panel, polled by htmx while the job runs; once done it tells the page to reload."""
    job = job_for(request, job_id)
    response = render(request, "web/imports/_progress.html", job_context(job))
    if job.status in FINISHED and request.GET.get("was") == "running":
        response["HX-Refresh"] = "true"  # the report below the panel is complete now
    return response


@page("imports")
@require_POST
def job_rerun(request, job_id):
    """Import for real the file a dry run checked, with the same options."""
    job = job_for(request, job_id)
    if not job.dry_run or not Path(job.file_path or "/").is_file():
        raise Http404
    try:
        new = create_job(job.file_path, kind=job.kind, user=request.user, options=job.options, dry_run=False,
                         file_name=job.file_name)
    except ImportRefused as error:
        return render(request, "web/imports/job.html", {**job_context(job), "refused": str(error)}, status=400)
    dispatch(new)
    return redirect("web:import_job", job_id=new.pk)


@page("imports")
def job_rejected(request, job_id):
    """The rejected rows in the file's own layout plus a reason column (importers.exports.rejected_rows)."""
    job = job_for(request, job_id)
    filename, body, content_type = exports.rejected_rows(job)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)  # 科小名单-rejected.csv: RFC 6266
    return response


def visible_candidate(user, item):
    """The candidate firm of a review item, only when the user may read it (an officer never sees
    a firm of another district through a review item)."""
    if not item.candidate_firm_id:
        return None
    return permissions.firms_visible_to(user, Firm.objects.filter(pk=item.candidate_firm_id)).select_related(
        "region", "current_stage").first()


class AcceptForm(forms.Form):
    firm_uscc = forms.CharField(label=gettext_lazy("归属企业的信用代码"), required=False, max_length=18)
    override_reason = forms.CharField(label=gettext_lazy("接受理由"), required=False, max_length=500)


class RejectForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("驳回说明"), required=False, max_length=500)


def review_items(user):
    return (ImportReviewItem.objects.filter(job__in=visible_jobs(user), status=ReviewStatus.PENDING)
            .select_related("job").order_by("job_id", "sheet", "line", "id"))


def _review_page(request, forms_by_item=None, status=200):
    paginator = Paginator(review_items(request.user), REVIEW_PAGE)
    page_obj = paginator.get_page(request.GET.get("page") or 1)
    forms_by_item = forms_by_item or {}
    cards = [{
        "item": item, "candidate": visible_candidate(request.user, item),
        "values": sorted((k, v) for k, v in (item.values or {}).items() if v not in (None, "", [])),
        "accept": forms_by_item.get(("accept", item.pk)) or AcceptForm(),
        "reject": forms_by_item.get(("reject", item.pk)) or RejectForm(),
    } for item in page_obj]
    return render(request, "web/imports/review.html", {"page_obj": page_obj, "cards": cards,
                                                       "is_admin": permissions.is_admin(request.user)}, status=status)


@page("imports")
def review_page(request):
    return _review_page(request)


def review_item_for(request, item_id):
    return get_object_or_404(ImportReviewItem.objects.select_related("job", "candidate_firm"),
                             pk=item_id, job__in=visible_jobs(request.user))


def already_decided(request, item):
    """A decided item is no longer in the queue: say so above the queue (e.g. a second click)."""
    if item.status == ReviewStatus.PENDING:
        return None
    messages.error(request, _("第 %(line)d 行已处理（%(status)s），无需再次操作。")
                   % {"line": item.line, "status": item.get_status_display()})
    return redirect("web:import_review")


@page("imports")
@require_POST
def review_accept(request, item_id):
    item = review_item_for(request, item_id)
    if decided := already_decided(request, item):
        return decided
    form = AcceptForm(request.POST)
    if form.is_valid():
        firm = None
        code = form.cleaned_data["firm_uscc"].strip().upper()
        if code:
            firm = permissions.firms_visible_to(request.user).filter(uscc=code).first()
            if firm is None:
                form.add_error("firm_uscc", _("您的辖区内没有信用代码为 %(code)s 的企业。") % {"code": code})
        elif item.candidate_firm_id and visible_candidate(request.user, item) is None:
            form.add_error("firm_uscc", _("请填写这一行所属企业的信用代码。"))
        if not form.errors:
            try:
                outcome = accept_review_item(item, request.user, override_reason=form.cleaned_data["override_reason"],
                                             firm=firm)
            except ImportRefused as error:
                _refused(form, error)
            else:
                messages.success(request, _("第 %(line)d 行已接受（%(outcome)s）。") % {"line": item.line, "outcome": outcome})
                return redirect("web:import_review")
    return _review_page(request, {("accept", item.pk): form}, status=400)


@page("imports")
@require_POST
def review_reject(request, item_id):
    item = review_item_for(request, item_id)
    if decided := already_decided(request, item):
        return decided
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            reject_review_item(item, request.user, form.cleaned_data["note"])
        except ImportRefused as error:
            _refused(form, error)
        else:
            messages.success(request, _("第 %(line)d 行已驳回。") % {"line": item.line})
            return redirect("web:import_review")
    return _review_page(request, {("reject", item.pk): form}, status=400)
