"""A second bot replica for the fan-out benchmark, in a process of its own.

`python -m benchmarks.fanout_replica DATABASE_URL SCALE ROUND_ID`: reads the emulator's
details (one JSON line) from stdin, builds its services, prints "ready"; on "go" it fans
the round out beside the first replica and prints "done".
"""

from __future__ import annotations

import json
import sys

from benchmarks.fanout import bench_services


def main() -> None:
    database_url, scale, round_id = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    services = bench_services(database_url, json.loads(sys.stdin.readline()), scale)
    try:
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            return
        services.feature("nps").fanout.send_due(round_id)
        print("done", flush=True)
    finally:
        services.close()


if __name__ == "__main__":
    main()
