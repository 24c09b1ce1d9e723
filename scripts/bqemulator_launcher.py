"""Start bqemulator's CLI with the two fixes it needs on an offline machine.

Run with the emulator venv's interpreter (created by scripts/setup_emulators.sh), with the same
arguments as `bqemulator`, e.g.
    .emulators/venv/bin/python scripts/bqemulator_launcher.py start --rest-port 9050 --grpc-port 0

1. DuckDB extensions: the emulator runs `INSTALL spatial` (required) and `INSTALL avro` at start,
   which download from the DuckDB extension repository. The pip wheels duckdb-extension-spatial and
   duckdb-extension-avro ship the same binaries; installing them first into DuckDB's extension
   directory makes those INSTALLs no-ops.
2. Load-job uploads: google-cloud-bigquery sends `*/*` as the content type of the media part of a
   multipart load job; the emulator's whitelist of media types lacks it and rejects every
   `load_table_from_dataframe`. Real BigQuery accepts it, so the launcher adds it.
"""

from __future__ import annotations

import sys


def install_bundled_extensions() -> None:
    import duckdb_extensions

    for name in ("spatial", "avro"):
        duckdb_extensions.import_extension(name)


def accept_any_media_type() -> None:
    from bqemulator.api.routes import upload

    permitted = upload._PERMITTED_MEDIA_CONTENT_TYPES  # noqa: SLF001 - the whitelist to extend
    if "*/*" not in permitted:
        upload._PERMITTED_MEDIA_CONTENT_TYPES = (*permitted, "*/*")  # noqa: SLF001


def main() -> None:
    install_bundled_extensions()
    accept_any_media_type()
    from bqemulator.cli import main as cli

    sys.argv[0] = "bqemulator"
    cli()


if __name__ == "__main__":
    main()
