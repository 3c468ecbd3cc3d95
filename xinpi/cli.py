"""``xinpi``: the command line. Every crawl goes through the Prefect flow in ``xinpi.flows.crawl``.

    xinpi demo                      offline demo: emulator + all spiders -> ./data, then a summary
    xinpi crawl [SOURCE ...]        crawl the real sites (or --emulator URL) into DATA_DIR
    xinpi extract IN.jsonl -o OUT   run the deal extractor over documents in a JSON-lines file
    xinpi deals                     rebuild the deals table (one row per deal, with provenance)
    xinpi compact [DATASET ...]     merge small Parquet files per partition, drop duplicate rows
    xinpi emulator [--port P]       serve the site emulator until interrupted
    xinpi serve                     run the schedules (nightly crawl, weekly re-scan, backfill, ...)
    xinpi sources                   list the spiders
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from xinpi.config import configure_offline_prefect, data_dir


def spider_names() -> list[str]:
    import os

    from scrapy.spiderloader import SpiderLoader
    from scrapy.utils.project import get_project_settings

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "xinpi.settings")
    return sorted(SpiderLoader.from_settings(get_project_settings()).list())


def _run_flow(sources: list[str], out: Path, emulator_url: str, since: str | None, until: str | None,
              settings: dict[str, str], refresh: bool = False, all_topics: bool = False) -> int:
    configure_offline_prefect()
    from xinpi.flows.crawl import crawl_flow
    from xinpi.flows.report import format_run, store_summary

    unknown = sorted(set(sources) - set(spider_names()))
    if unknown:
        print(f"xinpi: unknown source(s) {', '.join(unknown)}; known: {', '.join(spider_names())}",
              file=sys.stderr)
        return 2
    print(f"crawling {', '.join(sources)} into {out} ...", file=sys.stderr, flush=True)
    state = crawl_flow(sources, str(out), emulator_url, since, until, settings or None, refresh=refresh,
                       all_topics=all_topics, return_state=True)
    results = state.result(raise_on_failure=False)
    if not isinstance(results, dict):  # the flow itself broke before it could report per source
        print(f"xinpi: the crawl flow failed: {results}", file=sys.stderr)
        return 1
    print(format_run(results, store_summary(out), out))
    return 0 if state.is_completed() else 1


def _rebuild_deals(out: Path) -> int:
    configure_offline_prefect()
    from xinpi.flows.deals import deals_flow
    from xinpi.flows.report import deals_summary, format_deals

    state = deals_flow(str(out), return_state=True)
    if not state.is_completed():
        print(f"xinpi: rebuilding the deals table failed: {state.message}", file=sys.stderr)
        return 1
    print(format_deals(deals_summary(out), out))
    return 0


def pin_emulator_clock(out: Path) -> str:
    """Time the emulator's fresh fixture news from the first demo run into ``out``, every run after.

    A second demo must find nothing new. Fresh fixture rows ("3小时前") are timed back from the
    emulator's clock, and eastmoney's article codes start with that date, so without a pin a run
    after midnight in Shanghai saw yesterday's stories under new ids. The pin lives with the data
    (``_state/emulator_now``); ``XINPI_EMULATOR_NOW`` in the environment wins over it.
    """
    import os

    from xinpi.emulator.fixtures import CLOCK_ENV, SHANGHAI

    if os.environ.get(CLOCK_ENV):
        return os.environ[CLOCK_ENV]
    path = out / "_state" / "emulator_now"
    try:
        pinned = path.read_text("utf-8").strip()
        dt.datetime.fromisoformat(pinned)
    except (OSError, ValueError):
        pinned = dt.datetime.now(SHANGHAI).isoformat(timespec="seconds")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(pinned + "\n", "utf-8")
    os.environ[CLOCK_ENV] = pinned
    return pinned


def cmd_demo(args: argparse.Namespace) -> int:
    from xinpi.emulator.server import Emulator

    out = data_dir(args.data_dir)
    pin_emulator_clock(out)
    until = args.until or demo_window_end()
    with Emulator() as emulator:
        print(f"site emulator at {emulator.url}", file=sys.stderr)
        sources = args.sources or spider_names()
        # The fixture corpus spans 2025-2026; the demo asks for all of it.
        settings = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "ROBOTSTXT_OBEY": "True"}
        code = _run_flow(sources, out, emulator.url, args.since, until, settings)
    return _rebuild_deals(out) or code


def demo_window_end() -> str:
    """The demo's default ``--until``: the Shanghai date on the emulator's (pinned) clock.

    Not the machine's date: between midnight in Shanghai and midnight UTC a UTC machine is a day
    behind, and the window then ended before the fixture news timed "3小时前" (found at 03:18
    Beijing time: one story fewer each on eastmoney, sina and zqrb). The emulator's clock, not the
    wall clock, is what those stories are timed from.
    """
    from xinpi.emulator.fixtures import fresh_now

    return fresh_now().date().isoformat()


def cmd_deals(args: argparse.Namespace) -> int:
    return _rebuild_deals(data_dir(args.data_dir))


def cmd_compact(args: argparse.Namespace) -> int:
    configure_offline_prefect()
    from xinpi.flows.compact import compact_flow

    report = compact_flow(str(data_dir(args.data_dir)), args.datasets or None)
    for dataset, figures in sorted(report.items()):
        print(f"{dataset:<12} " + "  ".join(f"{k} {v}" for k, v in sorted(figures.items())))
    return 0


def cmd_crawl(args: argparse.Namespace) -> int:
    settings = dict(kv.split("=", 1) for kv in args.set)
    sources = args.sources or spider_names()
    return _run_flow(sources, data_dir(args.data_dir), args.emulator or "", args.since, args.until, settings,
                     args.refresh, args.all_topics)


def cmd_extract(args: argparse.Namespace) -> int:
    from xinpi.extract_file import main as extract_main

    return extract_main(args.rest)


def cmd_emulator(args: argparse.Namespace) -> int:
    from xinpi.emulator.server import main as emulator_main

    emulator_main(["--port", str(args.port)])
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    configure_offline_prefect()
    from xinpi.flows import deploy

    jobs = deploy.jobs(str(data_dir(args.data_dir)), args.sources or spider_names(), args.emulator or "")
    chosen = [j for j in jobs if not args.only or j.name in args.only]
    unknown = sorted(set(args.only or []) - {j.name for j in jobs})
    if unknown:
        print(f"xinpi: unknown deployment(s) {', '.join(unknown)}; known: {', '.join(j.name for j in jobs)}",
              file=sys.stderr)
        return 2
    for job in chosen:
        when = f"cron {job.cron!r} {deploy.TIMEZONE}" if job.cron else "on demand"
        print(f"{job.name:<16}{job.flow:<36}{when}", file=sys.stderr)
    if args.list:
        return 0
    deploy.serve([j.to_deployment() for j in chosen], limit=args.limit)
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    print("\n".join(spider_names()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="xinpi", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="offline demo crawl against the bundled site emulator")
    demo.add_argument("--data-dir", help="where the Parquet goes (default: $DATA_DIR or ./data)")
    demo.add_argument("--sources", nargs="*", help="spiders to run (default: all)")
    demo.add_argument("--since", default="2020-01-01", help="window start, YYYY-MM-DD")
    demo.add_argument("--until", help="window end, YYYY-MM-DD (default: the Shanghai date on the "
                                      "emulator's clock)")
    demo.set_defaults(func=cmd_demo)

    crawl = sub.add_parser("crawl", help="crawl the real sites (or an emulator) through the Prefect flow")
    crawl.add_argument("sources", nargs="*", help="spiders to run (default: all); see `xinpi sources`")
    crawl.add_argument("--data-dir", help="where the Parquet goes (default: $DATA_DIR or ./data)")
    crawl.add_argument("--since", help="window start, YYYY-MM-DD (Beijing date; default: recent days)")
    crawl.add_argument("--until", help="window end, YYYY-MM-DD (default: today)")
    crawl.add_argument("--emulator", help="base URL of a running site emulator instead of the real sites")
    crawl.add_argument("--refresh", action="store_true",
                       help="fetch stored documents again (a re-scan that catches edits at the source)")
    crawl.add_argument("--all-topics", action="store_true", help="no topic filter (spider argument all=1)")
    crawl.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                       help="a Scrapy setting for every crawl, e.g. -s DOWNLOAD_DELAY=2")
    crawl.set_defaults(func=cmd_crawl)

    extract = sub.add_parser("extract", help="extract deals from a JSON-lines file of documents",
                             add_help=False)
    extract.add_argument("rest", nargs=argparse.REMAINDER)
    extract.set_defaults(func=cmd_extract)

    emu = sub.add_parser("emulator", help="serve the site emulator until interrupted")
    emu.add_argument("--port", type=int, default=8765)
    emu.set_defaults(func=cmd_emulator)

    serve = sub.add_parser("serve", help="register the deployments and run their schedules until stopped")
    serve.add_argument("--data-dir", help="where the Parquet goes (default: $DATA_DIR or ./data)")
    serve.add_argument("--sources", nargs="*", help="spiders the crawls cover (default: all)")
    serve.add_argument("--emulator", help="point the crawl deployments at a running site emulator")
    serve.add_argument("--only", nargs="*", help="serve only these deployments (default: all)")
    serve.add_argument("--limit", type=int, default=2, help="flow runs at a time in this process")
    serve.add_argument("--list", action="store_true", help="print the deployments and exit")
    serve.set_defaults(func=cmd_serve)

    deals = sub.add_parser("deals", help="rebuild the deals table from what DATA_DIR holds")
    deals.add_argument("--data-dir", help="default: $DATA_DIR or ./data")
    deals.set_defaults(func=cmd_deals)

    compact = sub.add_parser("compact", help="merge each partition's small Parquet files, drop duplicates")
    compact.add_argument("datasets", nargs="*", help="default: every dataset")
    compact.add_argument("--data-dir", help="default: $DATA_DIR or ./data")
    compact.set_defaults(func=cmd_compact)

    sources = sub.add_parser("sources", help="list the spiders")
    sources.set_defaults(func=cmd_sources)
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["extract"]:  # its own parser, so `xinpi extract --help` shows its options
        from xinpi.extract_file import main as extract_main

        return extract_main(argv[1:])
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
