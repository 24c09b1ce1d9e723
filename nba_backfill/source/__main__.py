"""python -m nba_backfill.source --port 8765 [--host H] [--faults FILE] [--rate-limit N] [--latency S]"""

from __future__ import annotations

import argparse
import sys
import time

from nba_backfill.source.server import serve_offline


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nba_backfill.source",
                                 description="Serve the offline NBA replay over HTTP.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--faults", default=None, help="JSON faults file (re-read when it changes)")
    ap.add_argument("--rate-limit", type=float, default=None, help="requests/second before 429s")
    ap.add_argument("--latency", type=float, default=0.0, help="base latency per request (s)")
    args = ap.parse_args(argv)
    server, thread, url = serve_offline(args.host, args.port, faults_file=args.faults,
                                        rate_limit_per_second=args.rate_limit,
                                        base_latency=args.latency)
    from nba_backfill.source.data_store import get_store

    get_store()  # load the data before announcing readiness
    print(f"offline NBA source listening on {url}", flush=True)
    try:
        while thread.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
