"""xinpi (信披): crawl Chinese disclosure and financial news, extract deals, land them as Parquet.

The code is laid out as the data flows: ``spiders`` fetch and parse, ``pipelines`` normalise,
extract, dedupe and write, ``extractors`` are pure text-to-facts functions, ``flows`` orchestrate.
This package holds what fits none of those: the CLI, configuration and the site emulator.
"""

__version__ = "0.1.0"
