"""Text out of announcement PDFs (pypdf), with one clear error type for every way a PDF can be bad.

Why a module of its own: several spiders download attachments (cninfo, the exchanges), and each must
turn "not a PDF", "encrypted", "broken xref" and "no text layer" into a recorded failure rather than
a crash, while keeping the document itself. Callers catch :class:`PdfError` only.
"""

from __future__ import annotations

import io
import logging
import re

from pypdf import PdfReader
from pypdf.errors import PyPdfError

# pypdf reports recoverable damage through logging at WARNING; the caller records what matters
logging.getLogger("pypdf").setLevel(logging.ERROR)

_BLANKS = re.compile(r"[ \t\u3000]+\n")


class PdfError(ValueError):
    """A PDF whose text could not be read; the message says why, in one line."""


def extract_pdf_text(data: bytes, *, max_pages: int = 500) -> str:
    """Plain text of a PDF, pages joined by blank lines.

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
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    text = _BLANKS.sub("\n", text)
    if not text:
        raise PdfError(f"no text layer in {len(pages)} page(s) (scanned?)")
    return text
