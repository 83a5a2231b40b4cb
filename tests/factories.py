"""factory-boy factories; USCCs get a real GB 32100 check character from python-stdnum."""

import datetime
import itertools

import factory
from stdnum.cn import uscc as stdnum_uscc

from registry.models import Firm, Region

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_serial = itertools.count(1)


def make_uscc(region_code="320583", serial=None):
    n = next(_serial) if serial is None else serial
    org = ""
    for _ in range(9):
        n, digit = divmod(n, len(_ALPHABET))
        org = _ALPHABET[digit] + org
    body = f"91{region_code}{org}"
    return body + stdnum_uscc.calc_check_digit(body)


def bad_check_digit(code):
    """The same code with a wrong check character."""
    wrong = next(c for c in _ALPHABET if c != code[-1])
    return code[:-1] + wrong


class FirmFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Firm

    uscc = factory.LazyAttribute(lambda o: make_uscc(o.region.code))
    name = factory.Sequence(lambda n: f"昆山测试{n}科技有限公司")
    name_normalized = factory.LazyAttribute(lambda o: o.name)
    founded_on = datetime.date(2015, 6, 1)
    region = factory.LazyFunction(lambda: Region.objects.get(code="320583"))
