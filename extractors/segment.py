"""jieba, loaded once per process, lazily, with its cache in a writable project cache dir.

WHY: jieba's first cut costs ~0.5 s and by default writes /tmp/jieba.cache (shared, may be
unwritable). We only ever cut small windows around organisation names, never whole documents.
"""

from __future__ import annotations

import logging
import threading

from ._resources import DATA_DIR, cache_dir

_lock = threading.Lock()
_tok = None


def tokenizer():
    global _tok
    if _tok is None:
        with _lock:
            if _tok is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                t = jieba.Tokenizer()
                t.tmp_dir = str(cache_dir())
                t.cache_file = "jieba.xinpi.cache"
                t.initialize()
                t.load_userdict(str(DATA_DIR / "jieba_user_dict.txt"))
                jieba.dt.tmp_dir = str(cache_dir())
                _tok = t
    return _tok


def cut(window: str) -> list[str]:
    """Tokens of a short window (HMM off: stable boundaries for names)."""
    if not window:
        return []
    return tokenizer().lcut(window, HMM=False)
