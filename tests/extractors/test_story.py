"""story_id: copies of one story share an id across outlets; different stories do not."""

from __future__ import annotations

from itertools import combinations

import pytest

from xinpi.emulator import fixtures
from xinpi.extractors.story import core_paragraphs, story_id


@pytest.fixture(scope="module")
def news() -> list[dict]:
    """Distinct stories from the bundled news fixtures (bodies reuse labelled corpus texts)."""
    seen: dict[str, dict] = {}
    for name in ("sina", "eastmoney", "zqrb"):
        for row in fixtures.load(name):
            body = row.get("body")
            if body and body not in seen:
                doc_id = row.get("corpus_id") or row["title"]
                seen[body] = {"doc_id": doc_id, "title": row["title"], "text": body}
    return list(seen.values())


def _doc(news: list[dict], doc_id: str) -> dict:
    return next(d for d in news if d["doc_id"] == doc_id)


def syndicated_copy(text: str) -> str:
    """What a portal makes of a paper's story: header lines, reflowed spacing, a footer, a disclaimer."""
    paragraphs = [p for p in text.split("\n") if p.strip()]
    return "\n".join(
        ["原标题：" + "某报记者的原标题", "本报记者 张三", *("\u3000\u3000" + p + " " for p in paragraphs),
         "（文章来源：证券日报）", "（责任编辑：李四）",
         "免责声明：本文仅代表作者个人观点，与本网站无关。其原创性以及文中陈述文字和内容未经本站证实，"
         "对本文以及其中全部或者部分内容、文字的真实性、完整性、及时性本站不作任何保证或承诺。",
         "海量资讯、精准解读，尽在新浪财经APP"]
    )


def test_copy_with_new_title_header_and_footer_gets_the_same_id(news):
    doc = _doc(news, "dev-052")
    original = story_id(doc["title"], doc["text"])
    copy = story_id("锦程消费金融发行年内首单ABS，规模达10亿元", syndicated_copy(doc["text"]))
    assert copy == original
    assert original.startswith("story:") and len(original) == len("story:") + 16


def test_full_width_and_traditional_spacing_do_not_matter(news):
    doc = _doc(news, "dev-048")
    widened = doc["text"].replace("1", "１").replace("0", "０").replace(",", "，").replace("(", "（")
    assert story_id("x", widened) == story_id(doc["title"], doc["text"])


def test_an_unlabelled_footer_sentence_does_not_change_the_id(news):
    doc = _doc(news, "dev-061")
    footer = "\n本文首发于证券日报网，未经授权不得转载，更多精彩内容请关注证券日报官方微信公众号及客户端。"
    assert story_id(doc["title"], doc["text"] + footer) == story_id(doc["title"], doc["text"])


def test_every_fixture_story_gets_its_own_id(news):
    ids = {d["doc_id"]: story_id(d["title"], d["text"]) for d in news}
    clashes = [(a, b) for a, b in combinations(ids, 2) if ids[a] == ids[b]]
    assert clashes == []
    assert len(ids) >= 20


def test_same_template_different_numbers_are_different_stories():
    body = (
        "{n}月18日，南山区第{k}期知识产权证券化产品在深圳证券交易所成功设立，发行规模{s}亿元，"
        "为区内科技型中小企业提供低成本融资，计划管理人为平安证券股份有限公司。\n\n该产品期限三年。"
    )
    a = story_id("南山区知识产权ABS设立", body.format(n=4, k=5, s="3.2"))
    b = story_id("南山区知识产权ABS设立", body.format(n=9, k=6, s="4.1"))
    assert a != b


def test_editing_the_title_alone_never_changes_the_id(news):
    doc = _doc(news, "dev-084")
    assert story_id("完全不同的标题", doc["text"]) == story_id(doc["title"], doc["text"])


def test_labelled_lines_are_dropped_but_content_that_starts_like_a_label_is_kept():
    text = "来源：证券日报\n记者从上海证券交易所获悉，首单数据资产支持专项计划已于近日设立，规模1.02亿元。"
    kept = core_paragraphs(text)
    assert len(kept) == 1 and kept[0].startswith("记者从上海证券交易所获悉")


def test_a_long_labelled_line_is_dropped_however_wide_its_label_is_spaced():
    """Only a line's opening is checked for a label, yet spacing inside it must not hide the label."""
    content = "记者从上海证券交易所获悉，首单数据资产支持专项计划已于近日设立，规模1.02亿元。"
    disclaimer = "本文仅代表作者个人观点，与本网站无关，对文中内容的真实性与完整性不作任何保证或承诺。"
    for label in ("免责声明：", "免 责 声 明 ：", "（免" + " " * 40 + "责声明：", "\u3000\u3000免责声明 :"):
        kept = core_paragraphs(f"{content}\r\n{label}{disclaimer}\u2028尾注")
        assert kept == core_paragraphs(content) != [], label
    assert len(core_paragraphs(f"{content}\r\n免责{disclaimer}")) == 2  # no label, no colon: content


def test_short_flash_news_and_empty_bodies_still_get_distinct_ids():
    assert story_id("快讯", "央行开展500亿元逆回购。") != story_id("快讯", "央行开展800亿元逆回购。")
    assert story_id("标题甲", "") != story_id("标题乙", "")
    assert story_id("标题甲", None) == story_id("标题甲", "")


def test_squash_keeps_exactly_the_letters_and_digits_of_all_unicode():
    """The regex in _squash must keep what Unicode calls a letter (L*) or number (N*), nothing else:
    stored story ids were made with a per-character category test, and must not change."""
    import sys
    import unicodedata

    from xinpi.extractors.story import _squash

    every = "".join(chr(cp) for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF)
    by_category = "".join(ch for ch in every if unicodedata.category(ch)[0] in "LN").lower()
    assert _squash(every) == by_category
    assert _squash("Ａ股：3.15亿元（ABS）_x") == "ａ股315亿元absx"
