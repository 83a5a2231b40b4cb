import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from registry.models import AuditEvent, Firm, Role, RoleAssignment
from registry.services import upsert_firm
from tests.factories import bad_check_digit, make_uscc

pytestmark = pytest.mark.django_db


def admin_user():
    user = User.objects.create_user("admin1")
    RoleAssignment.objects.create(user=user, role=Role.ADMIN)
    return user


def test_create_then_update_only_what_changed_and_audit_it():
    code = make_uscc("320211")
    firm, outcome = upsert_firm(code.lower(), name="无锡芯动生物科技有限公司", region="320211", registered_capital="5000")
    assert outcome == "created"
    assert firm.uscc == code
    _, outcome = upsert_firm(code, name="无锡芯动生物科技有限公司", registered_capital="5000.00")
    assert outcome == "unchanged"
    _, outcome = upsert_firm(code, name="无锡芯动合成生物科技有限公司")
    firm.refresh_from_db()
    assert outcome == "updated"
    assert firm.former_names == ["无锡芯动生物科技有限公司"]
    assert list(AuditEvent.objects.filter(firm_id=firm.id).values_list("action", flat=True).order_by("id")) == ["create", "update"]


def test_name_is_stored_normalised_for_matching():
    firm, _ = upsert_firm(make_uscc(), name="苏州（鼎新）医疗器械有限责任公司 ", region="320506")
    assert firm.name == "苏州（鼎新）医疗器械有限责任公司"
    assert firm.name_normalized == "苏州(鼎新)医疗器械有限公司"


def test_a_failing_check_digit_is_refused_without_override():
    code = bad_check_digit(make_uscc())
    with pytest.raises(ValidationError) as caught:
        upsert_firm(code, name="甲公司", region="320583")
    assert "check character" in caught.value.message_dict["uscc"][0]
    # An officer's override is not enough; it must be an administrator with a reason.
    with pytest.raises(ValidationError):
        upsert_firm(code, name="甲公司", region="320583", override_reason="工商登记如此", actor=User.objects.create_user("x"))
    assert not Firm.objects.exists()


def test_an_administrator_may_accept_a_failing_code_with_a_recorded_reason():
    code = bad_check_digit(make_uscc())
    admin = admin_user()
    firm, _ = upsert_firm(code, name="甲公司", region="320583", override_reason="营业执照原件核对无误", actor=admin)
    assert (firm.uscc, firm.uscc_override_reason, firm.uscc_override_by) == (code, "营业执照原件核对无误", admin)
    assert AuditEvent.objects.get(firm_id=firm.id).actor == admin


@pytest.mark.parametrize(
    "values, field, text",
    [
        ({"uscc": "9132058"}, "uscc", "a USCC has 18"),
        ({"region": "999999"}, "region", "999999"),
        ({"registered_capital": "-5"}, "registered_capital", ""),
        ({"founded_on": "2024-02-30"}, "founded_on", "2024-02-30"),
        ({"chains": ["no_such_chain"]}, "chains", "no_such_chain"),
        ({"name": "  "}, "name", "name"),
    ],
)
def test_bad_firm_input_names_the_field_and_writes_nothing(values, field, text):
    args = {"uscc": make_uscc(), "name": "乙公司", "region": "320583", **values}
    with pytest.raises(ValidationError) as caught:
        upsert_firm(args.pop("uscc"), **args)
    assert field in caught.value.message_dict
    assert text in " ".join(caught.value.message_dict[field])
    assert not Firm.objects.exists()
    assert not AuditEvent.objects.exists()
