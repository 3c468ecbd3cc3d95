"""Where things live: data directory, caches, and the base URL of every host a spider talks to.

Spiders never hard-code a host. They ask :func:`host_url`, which answers with the real site in
production and with the local site emulator when ``XINPI_EMULATOR_URL`` is set (the emulator serves
every host under ``/<hostname>/``, keeping the real paths below that prefix).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: The scheme and host of every real endpoint in use (see ../shared/reference/sources.md).
REAL_HOSTS: dict[str, str] = {
    "www.cninfo.com.cn": "http://www.cninfo.com.cn",
    "static.cninfo.com.cn": "http://static.cninfo.com.cn",
    "www.zqrb.cn": "http://www.zqrb.cn",
    "query.sse.com.cn": "https://query.sse.com.cn",
    "www.sse.com.cn": "https://www.sse.com.cn",
    "bond.sse.com.cn": "https://bond.sse.com.cn",
    "static.sse.com.cn": "https://static.sse.com.cn",
    "www.szse.cn": "https://www.szse.cn",
    "disc.static.szse.cn": "https://disc.static.szse.cn",
    "bond.szse.cn": "https://bond.szse.cn",
    "feed.mix.sina.com.cn": "https://feed.mix.sina.com.cn",
    "finance.sina.com.cn": "https://finance.sina.com.cn",
    "www.cs.com.cn": "https://www.cs.com.cn",
    "www.stcn.com": "https://www.stcn.com",
    "np-listapi.eastmoney.com": "https://np-listapi.eastmoney.com",
    "finance.eastmoney.com": "https://finance.eastmoney.com",
}


def host_url(settings: Mapping[str, Any] | Any, host: str) -> str:
    """Base URL (no trailing slash) to reach ``host`` under the given Scrapy settings.

    Order: ``XINPI_EMULATOR_URL`` (everything to the emulator), then ``XINPI_HOST_URLS`` (a dict of
    per-host overrides, e.g. a proxy or a mirror), then the real site.
    """
    emulator = settings.get("XINPI_EMULATOR_URL")
    if emulator:
        return f"{str(emulator).rstrip('/')}/{host}"
    overrides = settings.get("XINPI_HOST_URLS") or {}
    if isinstance(overrides, str):  # -s XINPI_HOST_URLS='{"host": "url"}' on the command line
        import json

        overrides = json.loads(overrides)
    if host in overrides:
        return str(overrides[host]).rstrip("/")
    try:
        return REAL_HOSTS[host]
    except KeyError:
        raise KeyError(f"unknown host {host!r}: add it to xinpi.config.REAL_HOSTS") from None


def project_root() -> Path:
    """The checkout (or current directory for an installed copy): where ./data and .tmp live."""
    return Path(os.environ.get("XINPI_HOME", Path.cwd())).resolve()


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``DATA_DIR``: explicit argument, then the environment variable, then ``./data``."""
    return Path(explicit or os.environ.get("DATA_DIR") or project_root() / "data").resolve()


def cache_dir() -> Path:
    """A writable cache folder for jieba's model cache, tldextract and Prefect (never /tmp shared)."""
    path = Path(os.environ.get("XINPI_CACHE_DIR") or project_root() / ".tmp" / "cache")
    path.mkdir(parents=True, exist_ok=True)
    return path


def configure_offline_prefect() -> None:
    """Environment defaults that let Prefect run here without a server or the internet.

    Must run before ``import prefect``: Prefect reads its settings at import. A real deployment sets
    ``PREFECT_API_URL`` and these defaults step aside (``setdefault`` never overrides).
    """
    home = Path(os.environ.get("PREFECT_HOME") or project_root() / ".tmp" / "prefect")
    home.mkdir(parents=True, exist_ok=True)  # Prefect warns, then works, when it is missing
    os.environ.setdefault("PREFECT_HOME", str(home))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "240")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_RESULTS_LOCAL_STORAGE_PATH", str(home / "storage"))
