"""Text out of announcement PDFs (pypdf), with one clear error type for every way a PDF can be bad.

Why a module of its own: several spiders download attachments (cninfo, the exchanges), and each must
turn "not a PDF", "encrypted", "broken xref" and "no text layer" into a recorded failure rather than
a crash, while keeping the document itself. Callers catch :class:`PdfError` only.

Reflow: PDFs hard-wrap lines at the page width, so a deal name such as
``国泰海通-临港新片区数据资产1期资产支持专项计划`` comes out as ``…数据资产`` / ``1期资产支持专项计划``
and the extractors see only the fragment. :func:`reflow` joins a line to the next when the line is
a *wrapped* one (it runs to nearly the full text width and does not end a sentence or clause) and
the next line does not open a paragraph of its own (indent, list marker, article number, table row).
Short lines and punctuation-final lines keep their break, so real paragraphs survive.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata

from pypdf import PdfReader
from pypdf.errors import PyPdfError

# pypdf reports recoverable damage through logging at WARNING; the caller records what matters
logging.getLogger("pypdf").setLevel(logging.ERROR)

_BLANKS = re.compile(r"[ \t\u3000]+\n")

#: A line ending in one of these closes a sentence, clause or bracket: its break is kept.
_FINAL = "。！？；：…!?;:）)】」』》〕]\"”'’"
#: A line of at least this share of the typical full line width counts as "full" (wrapped). Real
#: PDFs wrap at the physical width, so wrapped lines sit within a glyph or two of it; 0.9 keeps a
#: one-line heading that happens to be nearly as wide as the text block from swallowing the next line.
FULL_SHARE = 0.9
#: The typical full width: this percentile of the document's line widths. High, because in short
#: announcements a few wrapped lines sit among many short ones (headings, fields, last lines).
TYPICAL_PERCENTILE = 0.9
_PARAGRAPH_START = re.compile(
    r"""^(?:[\s\u3000]                                  # an indent
    | [一二三四五六七八九十百]+[、.．]                        # 一、
    | [（(][一二三四五六七八九十百\d]+[）)]                 # （一） (1)
    | \d{1,3}[.．、](?!\d)                               # 1. 2、 (not 1.5亿元)
    | 第[一二三四五六七八九十百千\d]+[条章节款项部分]          # 第三条
    | [①-⑳⑴-⒇❶-❿•●■◆▪◇○※]                            # bullets
    | [-－—*]\s                                          # - item
    | [^\s：:，,。；;]{2,10}[：:])                          # a field line: 计划管理人：…""",
    re.VERBOSE,
)
#: Table rows and header lines set in columns: a rule character, a tab or a gap of 2+ spaces.
_TABLE = re.compile(r"[|│┃\t]|\S[ \u3000]{2,}\S")


def _width(line: str) -> float:
    """Printed width in em: CJK and full-width characters count 1, everything else 1/2."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.5 for ch in line)


def _table_like(line: str) -> bool:
    return bool(_TABLE.search(line.strip()))


def reflow(text: str, typical: float | None = None) -> str:
    """Join hard-wrapped lines back into paragraphs (see the module docstring).

    ``typical`` is the full line width in em; by default the :data:`TYPICAL_PERCENTILE` of the
    widths of ``text``'s own lines (table rows left out).
    """
    lines = text.split("\n")
    if typical is None:
        typical = typical_width([lines])
    if not typical:
        return text
    out: list[str] = []
    physical = ""  # the last line as printed: fullness is a property of it, not of the joined paragraph
    for line in lines:
        if out and _wrapped(physical, line, typical):
            prev = out[-1].rstrip()
            out[-1] = prev + _glue(prev, line) + line.strip()
        else:
            out.append(line)
        physical = line
    return "\n".join(out)


def _glue(prev: str, line: str) -> str:
    """Nothing between CJK lines; a space where a latin line broke between two words."""
    a, b = prev[-1:], line.strip()[:1]
    words = a.isascii() and a.isalpha() and b.isascii() and b.isalpha()
    return " " if words and _latin(prev) else ""


def typical_width(pages: list[list[str]]) -> float:
    """The :data:`TYPICAL_PERCENTILE` line width over all pages (0 with fewer than two lines)."""
    widths = sorted(
        _width(ln.strip()) for lines in pages for ln in lines if ln.strip() and not _table_like(ln)
    )
    if len(widths) < 2:
        return 0.0
    return widths[min(len(widths) - 1, int(TYPICAL_PERCENTILE * (len(widths) - 1) + 0.5))]


def _wrapped(prev: str, line: str, typical: float) -> bool:
    """Whether the break between ``prev`` and ``line`` is a hard wrap, not a paragraph break."""
    last = prev.rstrip()
    if not last or not line.strip() or last[-1] in _FINAL:
        return False
    if _width(last.strip()) < FULL_SHARE * typical:
        return False
    return not (_PARAGRAPH_START.match(line) or _table_like(line) or _table_like(prev))


def _latin(line: str) -> bool:
    """A mostly non-CJK line, where wrapped words need a space between them."""
    cjk = sum(1 for ch in line if unicodedata.east_asian_width(ch) in "WF")
    return cjk < 0.3 * len(line.strip() or "x")


class PdfError(ValueError):
    """A PDF whose text could not be read; the message says why, in one line."""


def extract_pdf_text(data: bytes, *, max_pages: int = 500) -> str:
    """Plain text of a PDF, hard-wrapped lines joined (:func:`reflow`), pages joined by blank lines.

    Raises :class:`PdfError` when the bytes are not a PDF (an HTML error page saved as .PDF is common),
    when pypdf cannot parse it, when it is encrypted, or when it has no text layer (a scan).
    """
    head = data[:1024].lstrip()
    if not head.startswith(b"%PDF-"):
        preview = head[:40].decode("latin-1", "replace").replace("\n", " ")
        raise PdfError(f"not a PDF ({len(data)} bytes, starts with {preview!r})")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise PdfError("encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages[:max_pages]]
    except PdfError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        raise PdfError(f"unreadable PDF: {type(exc).__name__}: {exc}") from exc
    typical = typical_width([p.split("\n") for p in pages])
    text = "\n\n".join(reflow(p.strip(), typical) for p in pages if p.strip())
    text = _BLANKS.sub("\n", text)
    if not text:
        raise PdfError(f"no text layer in {len(pages)} page(s) (scanned?)")
    return text
