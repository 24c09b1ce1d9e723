"""Reproducible performance runs of nba_backfill (see /work/notes/README_bench.md for results).

Each module is one command, e.g. `python -m benchmarks.full_backfill --seasons 2020-21 --repeat 3`;
every run writes a small JSON file under `benchmarks/results/` (machine, date, every repeat,
medians) and prints a Markdown table.
"""
