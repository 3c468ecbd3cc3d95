"""Write the announcement PDFs the emulated static.cninfo.com.cn serves (run once; output is committed).

Why committed files and not PDFs made on request: reportlab is only a test extra, and a fixed file is
what a real download is. The text is drawn with reportlab's built-in CID font STSong-Light, which
is referenced, not embedded, so each PDF stays a few KB and pypdf still maps it back to Unicode.
Rows with ``"pdf": "corrupt"`` get an HTML error page under a .PDF name (what a broken mirror
returns); ``"missing"`` rows get no file (the emulator answers 404).

``python -m xinpi.emulator.make_pdfs`` rewrites ``fixtures/pdf/<announcementId>.PDF``.
"""

from __future__ import annotations

import io
from pathlib import Path

from xinpi.emulator.fixtures import load

PDF_DIR = Path(__file__).with_name("fixtures") / "pdf"
CORRUPT = b"<html><head><title>502 Bad Gateway</title></head><body>upstream error</body></html>\n"
FONT = "STSong-Light"
LINE_CHARS = 40  # CJK glyphs are one em wide: 40 x 11 pt fits inside A4 with 50 pt margins


def _wrap(text: str, width: int = LINE_CHARS) -> list[str]:
    lines: list[str] = []
    for para in text.split("\n"):
        para = para.rstrip()
        if not para:
            lines.append("")
            continue
        lines.extend(para[i : i + width] for i in range(0, len(para), width))
    return lines


def render_pdf(title: str, text: str) -> bytes:
    """A small, reproducible (invariant) PDF with ``title`` and ``text`` in STSong-Light."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, invariant=1)
    width, height = A4
    y = height - 60
    pdf.setFont(FONT, 13)
    for line in _wrap(title, 34):
        pdf.drawString(50, y, line)
        y -= 20
    y -= 10
    pdf.setFont(FONT, 11)
    for line in _wrap(text):
        if y < 60:
            pdf.showPage()
            pdf.setFont(FONT, 11)
            y = height - 60
        pdf.drawString(50, y, line)
        y -= 16
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def main() -> None:
    PDF_DIR.mkdir(parents=True, exist_ok=True)
    for row in load("cninfo"):
        path = PDF_DIR / f"{row['announcementId']}.PDF"
        if row["pdf"] == "ok":
            path.write_bytes(render_pdf(row["title"], row["body"]))
        elif row["pdf"] == "corrupt":
            path.write_bytes(CORRUPT)
        else:
            path.unlink(missing_ok=True)
        print(path.name, path.stat().st_size if path.exists() else "-")


if __name__ == "__main__":
    main()
