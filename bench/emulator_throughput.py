"""Throughput of the emulator for VM get and VM list over loopback.

Starts `pulumi-infrahub emulator` in its own process (real uvicorn server, no
delays, no rate limit), creates a fleet of VMs, then drives it from several
client threads with keep-alive connections for a fixed time per operation and
prints requests per second. Exits 1 when an operation stays under the floor.

The load comes from the standard library's `http.client`: it spends about a
quarter of the CPU httpx does per request, and on a two-core machine the
client's share of the CPU is taken from the server being measured.

    python bench/emulator_throughput.py [--seconds 5] [--clients 8] [--vms 32]
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

KEY = "bench-key"
FLOOR = 1_000.0


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    command = [
        sys.executable,
        "-m",
        "pulumi_infrahub.cli",
        "emulator",
        "--port",
        "0",
        "--no-delays",
        "--rate-limit",
        "0",
        "--api-key",
        KEY,
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    if not url.startswith("http"):
        process.kill()
        raise SystemExit(f"the emulator did not print its URL: {url!r}")
    return process, url


def create_fleet(client: httpx.Client, count: int) -> list[int]:
    response = client.post(
        "/core/virtual-machines",
        json={
            "name": "bench",
            "environment_name": "demo-environment",
            "flavor_name": "n1-cpu-small",
            "image_name": "Ubuntu Server 22.04 LTS R535 CUDA 12.2",
            "key_name": "demo-keypair",
            "count": count,
            "assign_floating_ip": True,
        },
    )
    response.raise_for_status()
    return [vm["id"] for vm in response.json()["instances"]]


def drive(
    name: str,
    url: str,
    clients: int,
    seconds: float,
    path_for: Callable[[int], str],
) -> Result:
    counts = [0] * clients
    errors = [0] * clients
    stop = threading.Event()

    def worker(index: int) -> None:
        address = urlsplit(url)
        connection = http.client.HTTPConnection(address.hostname, address.port)
        headers = {"api_key": KEY}
        step = index
        try:
            while not stop.is_set():
                connection.request(
                    "GET", address.path + path_for(step), headers=headers
                )
                response = connection.getresponse()
                response.read()
                step += clients
                if response.status == 200:
                    counts[index] += 1
                else:
                    errors[index] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return Result(name, sum(counts), sum(errors), elapsed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--vms", type=int, default=20)
    args = parser.parse_args()

    process, url = start_emulator()
    try:
        with httpx.Client(base_url=url, headers={"api_key": KEY}) as client:
            ids = create_fleet(client, args.vms)
            client.get("/core/virtual-machines").raise_for_status()
        results = [
            drive(
                "VM get",
                url,
                args.clients,
                args.seconds,
                lambda step: f"/core/virtual-machines/{ids[step % len(ids)]}",
            ),
            drive(
                f"VM list ({args.vms} VMs)",
                url,
                args.clients,
                args.seconds,
                lambda step: "/core/virtual-machines",
            ),
        ]
    finally:
        process.terminate()
        process.wait(timeout=10)

    print(f"{'operation':<20} {'requests':>9} {'errors':>7} {'req/s':>9}")
    for result in results:
        print(
            f"{result.name:<20} {result.requests:>9} {result.errors:>7} "
            f"{result.rate:>9.0f}"
        )
    slow = [r for r in results if r.rate < FLOOR or r.errors]
    if slow:
        names = ", ".join(r.name for r in slow)
        print(f"under {FLOOR:.0f} req/s or with errors: {names}")
        return 1
    print(f"every operation above {FLOOR:.0f} req/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
