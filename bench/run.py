"""`make bench`: the fleet benchmarks, with the real Pulumi CLI and the
emulator, served the way the README tells users to (`--parallel 128` and the
wide provider pool; `bench/concurrency.py` compares the alternatives).

1. Fleet: N VMs (N = 8 and 32), each with a volume, an attachment and two
   firewall rules. `pulumi up` and `pulumi destroy` are timed with the
   emulator's delays (T: boot 5 s, public IP 1 s, attach 1 s, detach 2 s)
   and without any (T0); R = (T - T0) / C, where C is the longest chain of
   delays (up: boot + public IP + attach = 7 s; destroy: detach = 2 s).
   R = 1 means every wait overlapped with every other. Also the API
   requests: the busiest minute, 429 answers and requests per resource.
2. Refresh of the N = 32 fleet: wall time and requests; it must find no
   drift.
3. Preview of 200 unchanged resources, against the same graph whose provider
   makes no API call, as a ratio of wall times (median of three).
4. Memory: the peak resident size of the dynamic-provider process during the
   N = 32 `up`.

Each prints a table and writes the same figures to `.bench/<name>.json`; a
last table holds the targets. Exits 1 when a target is missed.

    python -m bench.run [--sizes 8 32] [--preview-resources 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from typing import Any

from bench.fleet import (
    BENCH_DELAYS,
    CHAIN_SECONDS,
    RESOURCES_PER_VM,
    WIDE_POOL,
    Measured,
    Workspace,
    emulator_args,
    print_table,
    workspace,
    write_results,
)

TARGET_R = 1.5
TARGET_PEAK_PER_MINUTE = 250
TARGET_PREVIEW_RATIO = 1.2
TARGET_PROVIDER_MB = 150.0
PREVIEW_REPEATS = 3


def ratio_r(delayed: Measured, undelayed: Measured, command: str) -> float:
    return (delayed.seconds - undelayed.seconds) / CHAIN_SECONDS[command]


def fleet_rows(
    ws: Workspace, sizes: Sequence[int], refresh_size: int
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """Times up and destroy of each fleet size with and without delays; the
    fleet of `refresh_size` is also refreshed while it stands."""
    rows: list[dict[str, Any]] = []
    refresh: dict[str, Any] = {}
    memory: dict[str, Any] = {}
    for size in sizes:
        delayed_emulator = ws.emulator(*emulator_args(BENCH_DELAYS))
        delayed = ws.fleet(delayed_emulator, size, WIDE_POOL)
        up = delayed.timed("up")
        if size == refresh_size:
            refreshed = delayed.timed("refresh", "--expect-no-changes", check=False)
            refresh = {
                "size": size,
                "resources": delayed.resources,
                "seconds": refreshed.seconds,
                "no_drift": refreshed.ok,
                "requests": refreshed.requests,
            }
            memory = {
                "size": size,
                "command": "up",
                "provider_peak_mb": up.provider_peak_mb,
                "provider_processes": up.provider_processes,
            }
        delayed.after_a_quiet_minute()
        down = delayed.timed("destroy")
        delayed_emulator.stop()

        plain_emulator = ws.emulator(*emulator_args())
        plain = ws.fleet(plain_emulator, size, WIDE_POOL)
        up0 = plain.timed("up")
        plain.after_a_quiet_minute()
        down0 = plain.timed("destroy")
        plain_emulator.stop()

        for command, timed, base in (("up", up, up0), ("destroy", down, down0)):
            rows.append(
                {
                    "N": size,
                    "command": command,
                    "T (s)": timed.seconds,
                    "T0 (s)": base.seconds,
                    "C (s)": CHAIN_SECONDS[command],
                    "R": ratio_r(timed, base, command),
                    "peak req/min": timed.requests.peak_per_minute,
                    "429s": timed.requests.rate_limited,
                    "req/resource": timed.requests.total / delayed.resources,
                    "requests": timed.requests.total,
                }
            )
    return rows, refresh, memory


def preview_rows(ws: Workspace, resources: int) -> list[dict[str, Any]]:
    """Median wall time of a no-change preview of `resources` resources, for
    the Infrahub fleet and for the same graph without an API."""
    size = max(1, resources // RESOURCES_PER_VM)
    emulator = ws.emulator(*emulator_args())
    rows = []
    for api in ("infrahub", "none"):
        fleet = ws.fleet(emulator, size, WIDE_POOL, api=api, prefix=f"pv-{api}")
        fleet.timed("up")
        runs = [
            fleet.timed("preview", "--expect-no-changes")
            for _ in range(PREVIEW_REPEATS)
        ]
        rows.append(
            {
                "provider": "pulumi-infrahub" if api == "infrahub" else "no API",
                "resources": fleet.resources,
                "median (s)": statistics.median(r.seconds for r in runs),
                "runs (s)": ", ".join(f"{r.seconds:.2f}" for r in runs),
                "requests": statistics.median(r.requests.total for r in runs),
            }
        )
    emulator.stop()
    return rows


def target_rows(
    fleet: Sequence[dict[str, Any]],
    preview_ratio: float,
    memory_mb: float,
    size: int,
) -> list[dict[str, Any]]:
    at = {(row["N"], row["command"]): row for row in fleet}
    up, down = at[(size, "up")], at[(size, "destroy")]
    checks = [
        (f"R of up, N={size}", up["R"], TARGET_R),
        (f"R of destroy, N={size}", down["R"], TARGET_R),
        (
            f"peak requests/min of up, N={size}",
            up["peak req/min"],
            TARGET_PEAK_PER_MINUTE,
        ),
        (f"429 answers during up, N={size}", up["429s"], 0),
        ("preview overhead ratio", preview_ratio, TARGET_PREVIEW_RATIO),
        (f"provider peak RSS (MB), up N={size}", memory_mb, TARGET_PROVIDER_MB),
    ]
    return [
        {
            "target": name,
            "measured": round(float(value), 2),
            "limit": limit,
            "met": "yes" if value <= limit else "NO",
        }
        for name, value, limit in checks
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--preview-resources", type=int, default=200)
    args = parser.parse_args(argv)
    largest = max(args.sizes)

    with workspace("bench") as ws:
        fleet, refresh, memory = fleet_rows(ws, args.sizes, largest)
        preview = preview_rows(ws, args.preview_resources)

    settings = {
        "serving": WIDE_POOL,
        "delays": BENCH_DELAYS,
        "chain_seconds": CHAIN_SECONDS,
    }
    print_table(
        f"Fleet up/destroy ({WIDE_POOL.label}; delays {dict(BENCH_DELAYS)})", fleet
    )
    write_results("fleet", {**settings, "rows": fleet})

    refresh_row = {
        "N": refresh["size"],
        "resources": refresh["resources"],
        "seconds": refresh["seconds"],
        "no drift": refresh["no_drift"],
        "requests": refresh["requests"].total,
        "req/resource": refresh["requests"].total / refresh["resources"],
    }
    print_table("Refresh of the standing fleet", [refresh_row])
    write_results("refresh", {**settings, **refresh})

    ratio = preview[0]["median (s)"] / preview[1]["median (s)"]
    print_table(
        f"Preview of unchanged resources (ratio {ratio:.2f}, target <= "
        f"{TARGET_PREVIEW_RATIO})",
        preview,
    )
    write_results("preview", {**settings, "ratio": ratio, "rows": preview})

    print_table(
        f"Dynamic-provider memory during up, N={memory['size']}",
        [
            {
                "peak RSS (MB)": memory["provider_peak_mb"],
                "provider processes": memory["provider_processes"],
            }
        ],
    )
    write_results("memory", {**settings, **memory})

    targets = target_rows(fleet, ratio, memory["provider_peak_mb"], largest)
    print_table("Targets", targets)
    write_results("targets", {"rows": targets})
    return 0 if all(row["met"] == "yes" for row in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
