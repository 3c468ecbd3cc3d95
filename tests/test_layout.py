"""Imports run one way: flows -> spiders, pipelines -> extractors; extractors are pure."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: folder -> xinpi sub-packages its modules must not import
FORBIDDEN = {
    "extractors": ("xinpi.spiders", "xinpi.pipelines", "xinpi.flows", "xinpi.config", "xinpi.items",
                   "xinpi.emulator", "xinpi.state", "xinpi.cli", "xinpi.settings", "scrapy", "prefect"),
    "spiders": ("xinpi.pipelines", "xinpi.flows"),
    "pipelines": ("xinpi.spiders", "xinpi.flows"),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_no_module_imports_against_the_data_flow(folder: str) -> None:
    offences = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for name in imported_modules(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[folder]):
                offences.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offences == []


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text("from xinpi.pipelines.store import DataStore\nimport scrapy.http\n", "utf-8")
    assert imported_modules(sample) == {"xinpi.pipelines.store", "scrapy.http"}
