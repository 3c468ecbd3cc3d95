"""One id per news *story*, shared by its syndicated copies on different outlets.

Why: 新浪财经 and 东方财富 republish 证券日报/中国证券报 stories with a new title, a "原标题" line, a
source/editor footer or a disclaimer. Each copy is its own document (``sina:…``, ``eastmoney:…``,
``zqrb:…``), but a deal mentioned in all three is one mention, not three. ``story_id`` gives all
copies the same id so downstream code can group them; different stories get different ids.

How: the id never looks at the title (portals rewrite titles). The body is NFKC-normalised, lines
that are known boilerplate (来源/责任编辑/免责声明/原标题 …) or too short to carry content are
dropped, whitespace and punctuation are removed, and the id is a hash of the first
``ANCHOR_CHARS`` characters of the *longest* remaining paragraph. Headers and footers that outlets
add are short lines, so they never become the anchor; edits outside the anchor's opening do not
change the id. Stories whose body is too short for that (flash news) fall back to the whole
normalised body, and an empty body to the normalised title.

Who calls it: the normalise stage (:mod:`xinpi.pipelines.normalise`), which stores the result in
``item["extra"]["story_id"]`` of every news document. It runs there, in the pipeline worker process,
and not in the spiders, because spiders only parse and the crawl process should spend its core on
fetching; normalise hashes the text as the spider yielded it (before its own NFKC and whitespace
clean-up), so the ids equal those of documents stored when the spiders still computed them.

Pure (the label list is read once, at import), no Scrapy.
"""

from __future__ import annotations

import hashlib
import re

from ._resources import lines
from .textnorm import nfkc

#: Characters of the anchor paragraph that go into the hash. Long enough to tell template stories
#: apart (names and numbers sit in the opening), short enough to ignore a tail an outlet appended.
ANCHOR_CHARS = 120
#: A normalised line shorter than this is a byline, a caption or a footer, not story content.
MIN_PARAGRAPH_CHARS = 30
#: Below this many normalised characters in the anchor the whole body is hashed instead.
MIN_ANCHOR_CHARS = 40

# Labelled lines that outlets add around a syndicated story ("来源：…", "（责任编辑：…）",
# "免责声明：…"): a known label, then a colon, at the start of the NFKC-normalised line (optionally
# inside a bracket). Requiring the colon keeps content such as "记者从上交所获悉…" safe. Unlabelled
# additions (bylines, "(完)", app promotions) are short and fall under MIN_PARAGRAPH_CHARS.
# The labels are language data, kept in extractors/data/story_boilerplate_labels.txt for analysts.
_BOILERPLATE_LABELS = lines("story_boilerplate_labels.txt")
_BOILERPLATE = re.compile(
    r"^[(\[【]?(?:" + "|".join(re.escape(p) for p in _BOILERPLATE_LABELS) + r")[:]"
)


#: Everything that is not a letter or a digit. ``[^\W_]`` is exactly the code points whose Unicode
#: category is L* or N* (str.isalnum); tests/extractors/test_story.py checks that over all of Unicode.
_NOT_ALNUM = re.compile(r"[\W_]+")
#: The same, except the line break: the lines of a whole body are squashed in one pass.
_NOT_ALNUM_KEEP_BREAKS = re.compile(r"(?:[^\w\n]|_)+")
_WHITESPACE = re.compile(r"\s+")
#: Characters (whitespace removed) that decide whether a line starts with a label: a bracket, the
#: longest label, the colon.
_LABEL_REACH = 1 + max(map(len, _BOILERPLATE_LABELS)) + 1


def _squash(text: str) -> str:
    """Keep letters and digits only: whitespace, punctuation and symbols differ between copies.

    One regex pass, not a per-character ``unicodedata.category`` loop: this runs on every article
    body of every crawl, and the loop cost about as much as parsing the page."""
    return _NOT_ALNUM.sub("", text).lower()


def core_paragraphs(text: str) -> list[str]:
    """The story's own paragraphs, normalised: boilerplate and short lines removed.

    The lines are squashed in one pass over the whole body, line breaks kept, rather than one
    regex call per line; only the few lines long enough to be kept are checked for a label."""
    lines = nfkc(text or "").splitlines()
    if not lines:
        return []
    squashed_lines = _NOT_ALNUM_KEEP_BREAKS.sub("", "\n".join(lines)).lower().split("\n")
    kept = []
    for raw, squashed in zip(lines, squashed_lines, strict=True):
        if len(squashed) >= MIN_PARAGRAPH_CHARS and not _labelled(raw):
            kept.append(squashed)
    return kept


def _labelled(line: str) -> bool:
    """Whether ``line`` starts with a boilerplate label, whitespace ignored ("来 源：" is "来源:").

    Only the line's opening can hold the label: a prefix that keeps enough characters once its
    whitespace is gone decides, so a long paragraph is not copied just to look at its start."""
    head = _WHITESPACE.sub("", line[:_LABEL_REACH])
    if len(head) < _LABEL_REACH and len(line) > _LABEL_REACH:
        head = _WHITESPACE.sub("", line)  # whitespace ate into the prefix: look at the whole line
    return _BOILERPLATE.match(head) is not None


def story_id(title: str | None, text: str | None) -> str:
    """A stable id shared by copies of one story (``"story:"`` + 16 hex digits)."""
    paragraphs = core_paragraphs(text or "")
    if paragraphs:
        anchor = max(paragraphs, key=len)  # first of the longest: stable between copies
        if len(anchor) < MIN_ANCHOR_CHARS:
            anchor = "".join(paragraphs)
        basis = "body:" + anchor[:ANCHOR_CHARS]
    else:
        body = _squash(nfkc(text or ""))
        basis = "body:" + body[:ANCHOR_CHARS] if body else "title:" + _squash(
            nfkc(title or "")
        )
    return "story:" + hashlib.blake2b(basis.encode("utf-8"), digest_size=8).hexdigest()
