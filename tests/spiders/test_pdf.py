"""PDF text extraction: CJK round trip through a PDF made here, and a clear error for each bad PDF."""

from __future__ import annotations

import io
import re

import pytest

from xinpi.emulator import make_pdfs
from xinpi.emulator.sites import cninfo as cninfo_site
from xinpi.spiders.pdf import PdfError, extract_pdf_text


def _squash(text: str) -> str:
    """Compare text without the line breaks PDF layout adds."""
    return re.sub(r"\s+", "", text)


def _cjk_pdf(lines: list[str], pages: int = 1) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for page in range(pages):
        c.setFont("STSong-Light", 12)
        for i, line in enumerate(lines):
            c.drawString(50, 780 - 18 * i, f"{line}{page + 1 if pages > 1 else ''}")
        c.showPage()
    c.save()
    return buf.getvalue()


def test_cjk_text_round_trips_including_rare_characters() -> None:
    lines = [
        "关于华泰-南京江北新区知识产权2期资产支持专项计划的公告",
        "发行规模３．１５亿元，负责人陈喆，金镕科技。",
    ]
    text = extract_pdf_text(_cjk_pdf(lines))
    assert _squash(text) == _squash("".join(lines))
    assert "喆" in text and "镕" in text and "３．１５亿元" in text


def test_pages_are_separated_by_a_blank_line() -> None:
    text = extract_pdf_text(_cjk_pdf(["第一行"], pages=3))
    assert text.split("\n\n") == ["第一行1", "第一行2", "第一行3"]


def test_committed_fixture_pdfs_give_back_their_fixture_text() -> None:
    ok = [r for r in cninfo_site.rows() if r["pdf"] == "ok"]
    assert len(ok) >= 15
    for row in ok:
        data = cninfo_site.pdf_bytes(row["announcementId"])
        assert data is not None
        assert _squash(extract_pdf_text(data)) == _squash(row["title"] + row["body"]), row["announcementId"]


def test_generator_is_reproducible() -> None:
    row = next(r for r in cninfo_site.rows() if r["pdf"] == "ok")
    made = make_pdfs.render_pdf(row["title"], row["body"])
    assert made == make_pdfs.render_pdf(row["title"], row["body"])
    assert made == cninfo_site.pdf_bytes(row["announcementId"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (make_pdfs.CORRUPT, "not a PDF"),
        (b"", "not a PDF (0 bytes"),
        (b"%PDF-1.4\n%garbage that is no PDF structure", "unreadable PDF"),
    ],
)
def test_bad_pdfs_raise_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(PdfError, match=re.escape(message)):
        extract_pdf_text(data)


def test_truncated_pdf_raises_pdf_error() -> None:
    data = _cjk_pdf(["被截断的公告"])
    with pytest.raises(PdfError):
        extract_pdf_text(data[: len(data) // 2])


def test_pdf_without_text_layer_is_an_error() -> None:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.rect(50, 50, 200, 200, fill=1)  # a page with only a drawing, like a scan
    c.showPage()
    c.save()
    with pytest.raises(PdfError, match="no text layer"):
        extract_pdf_text(buf.getvalue())


def test_encrypted_pdf_is_an_error() -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_cjk_pdf(["加密"]))))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(PdfError, match="encrypted"):
        extract_pdf_text(out.getvalue())


# --- reflow of hard-wrapped lines -----------------------------------------------------------------

DEAL = "国泰海通-临港新片区数据资产1期资产支持专项计划"


def _wrapped_pdf(paragraphs: list[str], width_em: float = 30) -> bytes:
    """Paragraphs hard-wrapped at a printed width, the way real announcement PDFs are laid out."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.setFont("STSong-Light", 11)
    y = 780
    for para in paragraphs:
        line = ""
        for ch in para:
            if pdfmetrics.stringWidth(line + ch, "STSong-Light", 11) > width_em * 11:
                c.drawString(50, y, line)
                y, line = y - 16, ""
            line += ch
        c.drawString(50, y, line)
        y -= 24
    c.showPage()
    c.save()
    return buf.getvalue()


PARAGRAPHS = [
    "上海证券交易所关于资产支持证券挂牌转让的通知",
    f"各市场参与人：本所同意{DEAL}资产支持证券自2025年10月30日起在本所固定收益证券综合电子平台挂牌"
    "转让，现将有关事项通知如下",
    "一、本期证券分为优先级和次级两档，合计发行规模为人民币1.5亿元。",
    "计划管理人：国泰海通证券股份有限公司",
    "原始权益人：上海临港新片区数据科技有限公司",
    "证券简称 | 证券代码 | 发行总额（万元）",
    "25临数A1 | 265418 | 9,500",
    "特此通知。",
]


def test_a_deal_name_wrapped_across_lines_comes_back_whole() -> None:
    from pypdf import PdfReader

    data = _wrapped_pdf(PARAGRAPHS)
    raw = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert DEAL not in raw and DEAL in _squash(raw)  # the layout really split the name
    text = extract_pdf_text(data)
    assert DEAL in text
    # every paragraph is one line again, and no two paragraphs were glued together
    assert text.split("\n") == PARAGRAPHS


def test_the_extractor_sees_the_whole_deal_name() -> None:
    from xinpi.extractors.deals import extract_document

    text = extract_pdf_text(_wrapped_pdf(PARAGRAPHS))
    names = [m["deal_name"] for m in extract_document("t:1", PARAGRAPHS[0], text).mentions]
    assert DEAL in names


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a full line without final punctuation continues on the next one
        ("一二三四五六七八九十一二三四五六七八九十\n续行。\n短行",
         "一二三四五六七八九十一二三四五六七八九十续行。\n短行"),
        # a sentence end, a list marker, an article number, a field line, an indent: breaks kept
        ("一二三四五六七八九十一二三四五六七八九。\n下一段", None),
        ("一二三四五六七八九十一二三四五六七八九十\n（二）第二项", None),
        ("一二三四五六七八九十一二三四五六七八九十\n第三条 规定", None),
        ("一二三四五六七八九十一二三四五六七八九十\n计划管理人：某证券", None),
        ("一二三四五六七八九十一二三四五六七八九十\n\u3000\u3000新段落", None),
        ("一二三四五六七八九十一二三四五六七八九十\n2. 第二点", None),
        # table rows stay rows
        ("名称 | 代码 | 金额金额金额金额金额金额金额\n甲 | 1 | 2", None),
        # latin lines broken between words get a space back
        ("Asset backed securities are issued by the trust\nunder the plan", "Asset backed securities are "
         "issued by the trust under the plan"),
    ],
)
def test_reflow_rules(text: str, expected: str | None) -> None:
    from xinpi.spiders.pdf import reflow

    # typical full width in em: 20 CJK characters, or 48 latin ones (half an em each)
    assert reflow(text, typical=20 if not text.isascii() else 24) == (text if expected is None else expected)


def test_reflow_keeps_amounts_like_1_5_as_text() -> None:
    from xinpi.spiders.pdf import reflow

    full = "一二三四五六七八九十一二三四五六七八九十"
    assert reflow(f"{full}\n1.5亿元的规模", typical=20) == f"{full}1.5亿元的规模"
