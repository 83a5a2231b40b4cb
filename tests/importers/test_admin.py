"""Admin: the job list with counts, and review items accepted or rejected by action."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from importers.models import ImportReviewItem, ReviewStatus
from importers.services import import_file
from registry.models import Firm

pytestmark = pytest.mark.django_db


def test_job_list_and_accepting_a_bad_check_digit_with_the_reason_in_the_note(data_dir):
    job = import_file(data_dir / "bad_rows_example.csv", kind="recognitions", options={"tier": "hnte"})
    admin = get_user_model().objects.create_superuser("boss", password="x")
    client = Client()
    client.force_login(admin)
    page = client.get("/admin/importers/importjob/")
    assert page.status_code == 200 and "bad_rows_example.csv" in page.content.decode()
    detail = client.get(f"/admin/importers/importjob/{job.pk}/change/").content.decode()
    assert "火星市" in detail and "check digit" in detail
    item = job.review_items.get()
    # Without a reason the action refuses; with one (written in the decision note) it applies the row.
    client.post("/admin/importers/importreviewitem/", {"action": "accept", "_selected_action": [item.pk]})
    item.refresh_from_db()
    assert item.status == ReviewStatus.PENDING
    ImportReviewItem.objects.filter(pk=item.pk).update(decision_note="paper certificate checked")
    client.post("/admin/importers/importreviewitem/", {"action": "accept", "_selected_action": [item.pk]})
    item.refresh_from_db()
    assert item.status == ReviewStatus.ACCEPTED
    assert Firm.objects.get(uscc="913202116J81J37T60").uscc_override_reason == "paper certificate checked"


def test_reject_action(data_dir):
    job = import_file(data_dir / "bad_rows_example.csv", kind="recognitions", options={"tier": "hnte"})
    admin = get_user_model().objects.create_superuser("boss", password="x")
    client = Client()
    client.force_login(admin)
    item = job.review_items.get()
    client.post("/admin/importers/importreviewitem/", {"action": "reject", "_selected_action": [item.pk]})
    item.refresh_from_db()
    assert item.status == ReviewStatus.REJECTED and not Firm.objects.filter(uscc="913202116J81J37T60").exists()


def test_pending_rows_are_resolved_in_the_admin(data_dir):
    from importers.models import PendingStatus

    job = import_file(data_dir / "real_shapes" / "unicorn_names_like.csv", kind="recognitions",
                      options={"tier": "unicorn", "issued_on": "2024-06-30"})
    admin = get_user_model().objects.create_superuser("boss", password="x")
    client = Client()
    client.force_login(admin)
    row = job.pending_rows.get(name="星河量子")
    response = client.post(f"/admin/importers/importpendingrow/{row.pk}/change/",
                           {"firm": "", "note": "查到了", "uscc": "913205830000000X6H", "region": ""})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == PendingStatus.CREATED and Firm.objects.get(uscc="913205830000000X6H").name == "星河量子"
    other = job.pending_rows.get(name="云深量子")
    client.post("/admin/importers/importpendingrow/", {"action": "dismiss", "_selected_action": [other.pk]})
    other.refresh_from_db()
    assert other.status == PendingStatus.DISMISSED
