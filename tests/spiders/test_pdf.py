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
