# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv if it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.xinpi-installed

# Offline hygiene for Prefect, jieba and tldextract (see ../shared/reference/toolchain.md).
export PREFECT_HOME := $(CURDIR)/.tmp/prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 240
export XINPI_CACHE_DIR := $(CURDIR)/.tmp/cache
export TLDEXTRACT_CACHE := $(CURDIR)/.tmp/cache/tldextract

.PHONY: demo test lint bench clean install browser

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

# The ops test screenshots the Prefect UI with Debian's headless Chromium.
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium; }

demo: $(STAMP)
	$(BIN)/xinpi demo

# One pytest-xdist worker per core; a test file's tests stay on one worker (--dist loadfile), so a
# module's fixtures (a crawl, a Prefect server) are built once. PYTEST_WORKERS=0: one process.
PYTEST_WORKERS ?= auto

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/extract_bench.py
	$(BIN)/python benchmarks/crawl_bench.py

clean:
	rm -rf .tmp data
