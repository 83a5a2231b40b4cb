import pytest

from registry import uscc
from tests.factories import bad_check_digit, make_uscc

VALID = "91320211DL8P3MR19U"  # from tests/data/firms_master.csv


@pytest.mark.parametrize(
    "raw",
    [
        VALID,
        "９１３２０２１１ＤＬ８Ｐ３ＭＲ１９Ｕ",  # full-width, as on published lists
        "91320211dl8p3mr19u",  # lower case
        " 9132 0211 DL8P 3MR1 9U ",  # spaces
        "91320211-DL8P3MR19-U",
    ],
)
def test_published_spellings_normalise_to_one_valid_code(raw):
    assert uscc.validate(raw) == VALID


def test_bad_check_digit_is_flagged_as_checksum_and_keeps_the_original_text():
    raw = bad_check_digit(VALID).lower()
    with pytest.raises(uscc.USCCError) as caught:
        uscc.validate(raw)
    assert caught.value.checksum is True
    assert raw in str(caught.value)


@pytest.mark.parametrize(
    "raw, reason",
    [("9132058", "has 7 characters"), ("", "is empty"), ("91320211DL8P3MR1OU", "characters")],
)
def test_malformed_codes_say_why(raw, reason):
    with pytest.raises(uscc.USCCError) as caught:
        uscc.validate(raw)
    assert caught.value.checksum is False
    assert reason in str(caught.value)


def test_factory_codes_are_valid():
    codes = {make_uscc("320214") for _ in range(200)}
    assert len(codes) == 200
    assert all(uscc.is_valid(code) for code in codes)
