"""Helpers for the demo scripts: is the emulator up, wait for it, show what
the demo tenant holds.

    python scripts/demo_emulator.py up http://127.0.0.1:8080/_emulator
    python scripts/demo_emulator.py wait http://127.0.0.1:8080/_emulator
    python scripts/demo_emulator.py show http://127.0.0.1:8080/_emulator
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import httpx
from tabulate import tabulate

from pulumi_infrahub.emulator.settings import DEMO_API_KEY


def is_up(admin_url: str) -> bool:
    """True when an emulator answers its health check at `admin_url`."""
    try:
        answer = httpx.get(f"{admin_url}/health", timeout=2)
    except httpx.HTTPError:
        return False
    return answer.status_code == 200 and answer.json().get("status") == "ok"


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait(admin_url: str, seconds: float, pid: int | None) -> int:
    """Waits until the emulator answers; with `pid`, fails as soon as that
    process is gone, since an answer could then only come from another
    emulator on the same port."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pid is not None and not is_alive(pid):
            print(f"The emulator (pid {pid}) exited.", file=sys.stderr)
            return 1
        if is_up(admin_url):
            return 0
        time.sleep(0.2)
    print(f"No emulator answered at {admin_url} within {seconds:g}s.", file=sys.stderr)
    return 1


def show(admin_url: str) -> int:
    answer = httpx.get(
        f"{admin_url}/summary", headers={"api_key": DEMO_API_KEY}, timeout=10
    )
    answer.raise_for_status()
    summary: dict[str, Any] = answer.json()

    vms = [
        [
            vm["id"],
            vm["name"],
            vm["status"],
            vm["flavor"],
            f"{vm['gpu_count']} x {vm['gpu']}" if vm["gpu_count"] else "-",
            vm["floating_ip"] or "-",
            ", ".join(vm["labels"]),
            f"${vm['hourly_cost']:.2f}/h",
        ]
        for vm in summary["virtual_machines"]
    ]
    volumes = [
        [
            volume["id"],
            volume["name"],
            f"{volume['size']} GB",
            volume["status"],
            ", ".join(str(vm_id) for vm_id in volume["attached_to"]) or "-",
        ]
        for volume in summary["volumes"]
    ]
    totals = summary["totals"]

    print("Virtual machines:")
    headers = ["id", "name", "status", "flavor", "GPUs", "public IP", "labels"]
    print(tabulate(vms, headers=[*headers, "cost"]) if vms else "  (none)")
    print("\nVolumes:")
    headers = ["id", "name", "size", "status", "attached to"]
    print(tabulate(volumes, headers=headers) if volumes else "  (none)")
    print(
        f"\n{totals['virtual_machines']} VM(s), {totals['gpus']} GPU(s), "
        f"{totals['volumes']} volume(s) of {totals['volume_gb']} GB; about "
        f"${totals['hourly_cost']:.2f} an hour at the emulator's list prices."
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("wait", "show", "up"))
    parser.add_argument("admin_url", help="the emulator's /_emulator URL")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--pid", type=int, help="wait: the emulator's process")
    args = parser.parse_args()

    if args.action == "up":
        return 0 if is_up(args.admin_url) else 1
    if args.action == "wait":
        return wait(args.admin_url, args.seconds, args.pid)
    return show(args.admin_url)


if __name__ == "__main__":
    raise SystemExit(main())
