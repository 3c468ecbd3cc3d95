"""Loading the bundled fixture documents that the emulated sites serve."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load(name: str) -> list[dict[str, Any]]:
    """Rows of ``fixtures/<name>.jsonl`` (one JSON object per line), in file order."""
    text = resources.files("xinpi.emulator").joinpath("fixtures", f"{name}.jsonl").read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]
