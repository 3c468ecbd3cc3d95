from decimal import Decimal

import pytest

from xinpi.extractors.money import find_money
from xinpi.extractors.textnorm import fold


@pytest.mark.parametrize(
    ("text", "yuan", "qual"),
    [
        ("发行规模1.45亿元", Decimal("145000000"), None),
        ("2000万元", Decimal("20000000"), None),
        ("7.34 亿元", Decimal("734000000"), None),
        ("十亿元", Decimal("1000000000"), None),
        ("1.2万亿元", Decimal("1200000000000"), None),
        ("３．１５亿元", Decimal("315000000"), None),
        ("不超过人民币30亿元（含）", Decimal("3000000000"), "不超过"),
        ("逾1亿元", Decimal("100000000"), "逾"),
        ("累计发行规模超过80亿元", Decimal("8000000000"), "超过"),
        ("10亿元人民币", Decimal("1000000000"), None),
        ("認購資金305,000,000.00元", Decimal("305000000"), None),
        ("發行規模150億元", Decimal("15000000000"), None),
    ],
)
def test_amounts_are_exact_yuan(text, yuan, qual):
    ms = find_money(fold(text), text)
    assert len(ms) == 1
    assert ms[0].yuan == yuan
    assert ms[0].qualifier == qual
    assert text[ms[0].start : ms[0].end] == ms[0].text


def test_other_currency_kept_not_converted():
    (m,) = find_money(fold("一次募集5500万美元"), "一次募集5500万美元")
    assert m.yuan is None and m.currency == "USD" and m.amount == 5500 and m.unit == "万"
    (h,) = find_money(fold("规模3亿港元"))
    assert h.currency == "HKD" and h.yuan is None


def test_units_and_counts_are_not_money():
    assert find_money(fold("基金份额4亿份，发行数量1,500万张")) == []
