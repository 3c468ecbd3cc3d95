from xinpi.extractors.deals import extract_document


def names(title, text):
    return [m["deal_name"] for m in extract_document("d", title, text).mentions]


def test_left_boundary_stops_at_issuer_and_verbs():
    assert names(
        "",
        "近日，A有限公司在银行间市场成功发行甲乙集团有限公司2021年度第一期绿色中期票据(碳中和债)，发行金额6亿元。",
    ) == ["甲乙集团有限公司2021年度第一期绿色中期票据(碳中和债)"]
    assert names("", "日前，由长江证券担任计划管理人的“狮桥一期资产支持专项计划”宣告成立。") == [
        "狮桥一期资产支持专项计划"
    ]


def test_tranche_suffix_folds_into_the_deal():
    got = names("", "给予“中信证券-中建三局供应链1号资产支持专项计划优先级资产支持证券”AAA评级。")
    assert got == ["中信证券-中建三局供应链1号资产支持专项计划"]


def test_name_broken_across_lines_is_joined():
    got = names(
        "", "平安-广州开发区知识产权2025年第2期\n资产支持专项计划\n计划说明书\n\n发行规模：人民币 4.50 亿元"
    )
    assert got == ["平安-广州开发区知识产权2025年第2期资产支持专项计划"]
    got = names("", "南京高科股份有限公司\n\n2024年度第三期超短期融资券\n募集说明书")
    assert got == ["南京高科股份有限公司2024年度第三期超短期融资券"]


def test_categories_and_unnamed_references_are_not_deals():
    assert (
        names(
            "知识产权ABS年内发行6单", "该专项计划已设立。通过发行资产支持专项计划、资产支持票据等方式融资。"
        )
        == []
    )


def test_aliases_link_to_one_deal():
    res = extract_document(
        "d",
        "",
        "鹏华湖北交投高速公路封闭式基础设施证券投资基金（简称“鹏华湖北交投REIT”）已完成发售。"
        "鹏华湖北交投REIT最终募集资金总额28.6亿元。",
    )
    (m,) = res.mentions
    assert m["aliases"] == ["鹏华湖北交投REIT"] and m["scale_yuan"] == 2_860_000_000 and m["type"] == "REIT"


def test_table_with_unit_in_header():
    text = (
        "项目名称|原始权益人|计划管理人|拟发行金额(亿元)|项目状态|更新日期\n"
        "华泰-京东科技消费金融2025年第\n1期资产支持专项计划|北京京东世纪贸易有限公司|华泰证券(上海)资产管理有限公司|15|已受理|2025-11-11\n"
    )
    (m,) = extract_document("d", "", text).mentions
    assert m["deal_name"] == "华泰-京东科技消费金融2025年第1期资产支持专项计划"
    assert m["scale_yuan"] == 1_500_000_000 and m["scale_text"] == "15" and m["scale_unit"] == "亿元"
    assert m["issuers"] == ["北京京东世纪贸易有限公司"] and m["managers"] == [
        "华泰证券(上海)资产管理有限公司"
    ]
