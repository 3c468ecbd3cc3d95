from pathlib import Path

from xinpi.extractors import segment


def test_jieba_loads_once_with_project_cache(monkeypatch, tmp_path):
    t1 = segment.tokenizer()
    t2 = segment.tokenizer()
    assert t1 is t2
    assert Path(t1.tmp_dir).is_dir() and not t1.tmp_dir.startswith("/tmp/jieba")
    assert "原始权益人" in segment.cut("原始权益人为甲")
