"""How to get more than four calls in flight: the measurement behind the
choice of the wide provider pool.

The Python dynamic-provider server handles four calls at once, and the CLI
runs four steps per CPU at once unless told otherwise; our creates hold a
call until the object is usable. This times the N = 32 fleet's `up` and
`destroy` (with the bench delays, T, and without, T0) under each way past
those limits, and records the API's busiest minute and the provider
processes' memory:

- the CLI's defaults;
- `--parallel 128` alone;
- `--parallel 128` with the wide pool (`pulumi_infrahub.provider_server`,
  64 threads, one process);
- `--parallel 128` with the fleet spread over K explicit providers
  ("shards", one process of four threads each), with the stack's budget of
  250 requests a minute split between them, as it must be for the stack to
  stay within it, and once with every shard at the full 250 (which breaks
  the budget and can exhaust the client's retries on 429 answers; a run
  that fails is marked, not hidden).

    python -m bench.concurrency [--size 32]

Prints a table and writes it to `.bench/concurrency.json`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from bench.fleet import (
    BENCH_DELAYS,
    CHAIN_SECONDS,
    WIDE_POOL,
    Serving,
    Workspace,
    emulator_args,
    print_table,
    workspace,
    write_results,
)

BUDGET = 250


def shards(count: int, *, split: bool = True) -> Serving:
    each = BUDGET // count if split else BUDGET
    return Serving(
        f"--parallel 128, {count} shards, {each} req/min each",
        parallel=128,
        shards=count,
        requests_per_minute=each,
    )


SETTINGS: tuple[Serving, ...] = (
    Serving("CLI defaults, SDK server (4 threads)"),
    Serving("--parallel 128, SDK server (4 threads)", parallel=128),
    WIDE_POOL,
    shards(8),
    shards(11),
    shards(8, split=False),
)


def measure(ws: Workspace, size: int, serving: Serving) -> dict[str, Any]:
    delayed_emulator = ws.emulator(*emulator_args(BENCH_DELAYS))
    delayed = ws.fleet(delayed_emulator, size, serving)
    up = delayed.timed("up", check=False)
    delayed.after_a_quiet_minute()
    down = delayed.timed("destroy", check=False)
    delayed_emulator.stop()

    plain_emulator = ws.emulator(*emulator_args())
    plain = ws.fleet(plain_emulator, size, serving)
    up0 = plain.timed("up", check=False)
    plain.after_a_quiet_minute()
    down0 = plain.timed("destroy", check=False)
    plain_emulator.stop()

    runs = {"up": up, "destroy": down, "up T0": up0, "destroy T0": down0}
    failed = [name for name, run in runs.items() if not run.ok]
    return {
        "setting": serving.label,
        "N": size,
        "failed": ", ".join(failed),
        "T up": up.seconds,
        "T0 up": up0.seconds,
        "R up": (up.seconds - up0.seconds) / CHAIN_SECONDS["up"],
        "T destroy": down.seconds,
        "T0 destroy": down0.seconds,
        "R destroy": (down.seconds - down0.seconds) / CHAIN_SECONDS["destroy"],
        "peak req/min (up)": up.requests.peak_per_minute,
        "429s": up.requests.rate_limited + down.requests.rate_limited,
        "provider processes (up)": up.provider_processes,
        "largest provider (MB)": up.provider_peak_mb,
        "all providers (MB)": up.provider_total_mb,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.concurrency", description=__doc__
    )
    parser.add_argument("--size", type=int, default=32)
    args = parser.parse_args(argv)

    rows = []
    with workspace("concurrency") as ws:
        for serving in SETTINGS:
            rows.append(measure(ws, args.size, serving))
            print(f"measured: {rows[-1]}", file=sys.stderr, flush=True)
            # Written after each setting, so that a long run keeps what it has.
            write_results("concurrency", {"delays": BENCH_DELAYS, "rows": rows})

    print_table(
        f"Ways past four calls at once, N={args.size} (delays {dict(BENCH_DELAYS)})",
        rows,
    )
    write_results("concurrency", {"delays": BENCH_DELAYS, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
