from xinpi.extractors.deals import extract_document


def one(text, title=""):
    (m,) = extract_document("d", title, text).mentions
    return m


def test_roles_from_cue_words_and_neither_roles():
    m = one(
        "“甲-乙知识产权1期资产支持专项计划”设立，发行规模2亿元。该产品的原始权益人为深圳市某某小额贷款有限公司"
        "（下称“某某小贷”），计划管理人为平安证券股份有限公司，深圳市某某融资担保有限公司担任差额支付承诺人，"
        "某某会计师事务所担任验资机构。"
    )
    assert m["issuers"] == ["深圳市某某小额贷款有限公司"]
    assert m["managers"] == ["平安证券股份有限公司"]


def test_project_manager_is_not_manager_and_short_names_resolve():
    m = one(
        "“兴证圆融-湘江新区知识产权资产支持专项计划”获批。中盈投资为原始权益人；兴业资管担任计划管理人，"
        "湖南省知识产权交易中心担任项目管理人。"
    )
    assert m["issuers"] == ["中盈投资"] and m["managers"] == ["兴业资管"]
    m = one(
        "“甲-乙1期资产支持专项计划”发行。由长江证券股份有限公司（以下简称“长江证券”）担任计划管理人。"
        "原始权益人为乙租赁(中国)有限公司（简称“乙租赁”）。长江证券表示满意。"
    )
    assert m["managers"] == ["长江证券股份有限公司"] and m["issuers"] == ["乙租赁(中国)有限公司"]


def test_cover_page_labels_on_their_own_lines():
    m = one(
        "甲-乙知识产权2025年第2期\n资产支持专项计划\n计划说明书\n\n计划管理人\n\n平安证券股份有限公司\n\n原始权益人\n\n"
        "广州凯得融资租赁有限公司\n\n差额支付承诺人 / 担保人\n\n广州开发区控股集团有限公司\n"
    )
    assert m["issuers"] == ["广州凯得融资租赁有限公司"] and m["managers"] == ["平安证券股份有限公司"]


def test_bond_issuer_read_from_name_and_lists_of_underwriters():
    m = one(
        "中國鐵路總公司今日招標發行2014年第七期中國鐵路建設債券，發行規模150億元。本期債券由國泰君安證券、中信證券和中信建投證券擔任聯席主承銷商。"
    )
    assert m["issuers"] == ["中國鐵路總公司"]
    assert m["managers"] == ["國泰君安證券", "中信證券", "中信建投證券"]
    assert m["scale_yuan"] == 15_000_000_000
