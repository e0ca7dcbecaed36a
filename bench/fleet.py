"""What the fleet benchmarks and the chaos runs share: the fleet program, the
ways to serve it, the emulator, and the figures read from the emulator's
request log and from /proc.

The real Pulumi CLI runs the program in `bench/programs/fleet` against an
emulator process, through the end-to-end harness of the test suite
(`tests/e2e/conftest.py`), so that a benchmark drives Pulumi exactly as the
tests and a user do. Run the benchmarks from the repository root as modules
(`python -m bench.run`), which puts the root on the import path.
"""

from __future__ import annotations

import json
import os
import platform
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from tabulate import tabulate

from pulumi_infrahub.provider_server import THREADS_VARIABLE, write_plugin
from pulumi_infrahub.resources._provider import REQUESTS_PER_MINUTE_VARIABLE
from tests.e2e.conftest import (
    Emulator,
    PulumiProject,
    PulumiRun,
    find_pulumi_bin,
    launch_emulator,
    new_project,
)

__all__ = [
    "BENCH_DELAYS",
    "CHAIN_SECONDS",
    "FLEET_PROGRAM",
    "RESOURCES_PER_VM",
    "RESULTS",
    "WIDE_POOL",
    "FleetRun",
    "Measured",
    "RequestStats",
    "Serving",
    "Workspace",
    "admin",
    "emulator_args",
    "logged_requests",
    "print_table",
    "use_wide_pool",
    "workspace",
    "write_results",
]

REPO = Path(__file__).resolve().parents[1]
FLEET_PROGRAM = REPO / "bench" / "programs" / "fleet"
RESULTS = REPO / ".bench"
"""Where every benchmark writes its figures as JSON (git-ignored)."""

RESOURCES_PER_VM = 5
"""A VM, its volume, the attachment and two firewall rules."""

BENCH_DELAYS: Mapping[str, float] = {
    "boot": 5.0,
    "public_ip": 1.0,
    "attach": 1.0,
    "detach": 2.0,
}
"""Emulator delays of the timed runs; every other transition is instant."""

# Longest chain of delays a run has to wait through, whatever the overlap:
# `up` boots a VM, waits for its public IP, then attaches its volume;
# `destroy` detaches the volume before the VM and the volume can go.
CHAIN_SECONDS: Mapping[str, float] = {
    "up": BENCH_DELAYS["boot"] + BENCH_DELAYS["public_ip"] + BENCH_DELAYS["attach"],
    "destroy": BENCH_DELAYS["detach"],
}

RUN_TIMEOUT = 1800.0
"""Seconds one `pulumi` command may take; the slowest setting measured (the
CLI's defaults at N = 32) needs a few minutes."""


# -- how the fleet is served ------------------------------------------------


@dataclass(frozen=True)
class Serving:
    """How the engine and the provider process(es) run the fleet.

    `parallel` is the engine's step limit (`PULUMI_PARALLEL`; None keeps the
    CLI default of 4 per CPU). `threads` serves the default provider with
    `pulumi_infrahub.provider_server` on a pool that wide (None keeps the
    SDK's server, four calls at once). `shards` spreads the fleet over that
    many explicit providers instead. `requests_per_minute` is each provider
    process's API budget (`INFRAHUB_REQUESTS_PER_MINUTE`; None keeps 250).
    """

    label: str
    parallel: int | None = None
    threads: int | None = None
    shards: int = 0
    requests_per_minute: int | None = None


WIDE_POOL = Serving("--parallel 128, wide pool (64 threads)", parallel=128, threads=64)
"""What the benchmarks use, and what the README tells users to set up."""


# -- the emulator -------------------------------------------------------------


def emulator_args(delays: Mapping[str, float] | None = None, *extra: str) -> list[str]:
    """Command-line options for an emulator with only `delays` non-zero (none
    at all when None) and the API's own rate limit of 500 a minute."""
    args = ["--no-delays"]
    for name, seconds in (delays or {}).items():
        args += [f"--{name.replace('_', '-')}-delay", f"{seconds:g}"]
    return [*args, *extra]


def admin(emulator: Emulator, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """Calls the emulator's `/_emulator/PATH` control endpoints."""
    root = emulator.base_url.removesuffix("/v1")
    response = httpx.request(
        method,
        f"{root}/_emulator/{path.lstrip('/')}",
        headers={"api_key": emulator.api_key},
        timeout=30,
        **kwargs,
    )
    response.raise_for_status()
    return response


def logged_requests(emulator: Emulator) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = admin(emulator, "GET", "requests").json()[
        "requests"
    ]
    return entries


@dataclass(frozen=True)
class RequestStats:
    """API requests the emulator answered during one run."""

    total: int
    peak_per_minute: int
    """The most requests in any 60 seconds of the run (all of them when the
    run is shorter)."""
    rate_limited: int
    """Answers with status 429."""
    by_route: dict[str, int]

    @classmethod
    def of(cls, entries: Sequence[Mapping[str, Any]]) -> RequestStats:
        times = sorted(float(entry["at"]) for entry in entries)
        peak = 0
        first = 0
        for last, at in enumerate(times):
            while at - times[first] >= 60.0:
                first += 1
            peak = max(peak, last - first + 1)
        routes = Counter(
            f"{entry['method']} {_route(entry['path'])}" for entry in entries
        )
        return cls(
            total=len(times),
            peak_per_minute=peak,
            rate_limited=sum(1 for entry in entries if entry["status"] == 429),
            by_route=dict(routes.most_common()),
        )


def _route(path: str) -> str:
    # Ids become `{id}`, so that requests group by route.
    return "/".join("{id}" if part.isdigit() else part for part in path.split("/"))


# -- provider memory ----------------------------------------------------------

_PROVIDER_MARKERS = ("pulumi.dynamic", "pulumi_infrahub.provider_server")


class ProviderMemory:
    """Watches, from /proc, the dynamic-provider processes started for one
    program folder and keeps the peak resident size of each."""

    def __init__(self, program_dir: Path, interval: float = 0.25) -> None:
        self._program_dir = str(program_dir.resolve())
        self._interval = interval
        self._stop = threading.Event()
        self.peaks_kb: dict[int, int] = {}
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ProviderMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        """The largest peak of any one provider process."""
        return max(self.peaks_kb.values(), default=0) / 1024

    @property
    def processes(self) -> int:
        return len(self.peaks_kb)

    @property
    def total_mb(self) -> float:
        """The peaks of all provider processes, added up."""
        return sum(self.peaks_kb.values()) / 1024

    def _watch(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self._interval)
        self._sample()

    def _sample(self) -> None:
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if os.readlink(proc / "cwd") != self._program_dir:
                    continue
                command = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
                if not any(m.encode() in command for m in _PROVIDER_MARKERS):
                    continue
                status = (proc / "status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                # VmHWM: the kernel's own peak of the resident set.
                if line.startswith("VmHWM:"):
                    kb = int(line.split()[1])
                    pid = int(proc.name)
                    self.peaks_kb[pid] = max(self.peaks_kb.get(pid, 0), kb)


# -- runs ---------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One timed `pulumi` command."""

    command: str
    seconds: float
    ok: bool
    requests: RequestStats
    provider_peak_mb: float
    provider_processes: int
    provider_total_mb: float


# The API counts requests per address over a rolling minute (plus a second
# for the clocks of the two sides).
API_WINDOW_SECONDS = 61.0


@dataclass
class FleetRun:
    """One fleet stack against one emulator, served one way."""

    project: PulumiProject
    emulator: Emulator
    size: int
    serving: Serving
    history: list[Measured] = field(default_factory=list)
    last_ended: float = 0.0

    @property
    def resources(self) -> int:
        return self.size * RESOURCES_PER_VM

    def after_a_quiet_minute(self) -> None:
        """Waits until the API's one-minute rate-limit window holds no request
        of an earlier command, as if its user had paused between commands.

        Each `pulumi` command starts a provider process with a budget of its
        own, so a command run right after a busy one can meet 429 answers
        that belong to its predecessor; a benchmark of the second would then
        measure the first.
        """
        remaining = self.last_ended + API_WINDOW_SECONDS - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)

    def timed(self, command: str, *args: str, check: bool = True) -> Measured:
        """Runs `pulumi COMMAND ARGS` (with `--yes` where it asks) and
        measures its wall time, the API requests it caused and the memory of
        its provider processes."""
        admin(self.emulator, "DELETE", "requests")
        with ProviderMemory(self.project.program_dir) as memory:
            run = self._run(command, *args, check=check)
        self.last_ended = time.monotonic()
        measured = Measured(
            command=command,
            seconds=run.seconds,
            ok=run.returncode == 0,
            requests=RequestStats.of(logged_requests(self.emulator)),
            provider_peak_mb=memory.peak_mb,
            provider_processes=memory.processes,
            provider_total_mb=memory.total_mb,
        )
        self.history.append(measured)
        return measured

    def _run(self, command: str, *args: str, check: bool) -> PulumiRun:
        yes = ("--yes",) if command in ("up", "destroy", "refresh") else ()
        return self.project.run(command, *yes, *args, check=check, timeout=RUN_TIMEOUT)


class Workspace:
    """Emulators and stacks under one scratch folder, all stopped at exit."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pulumi_bin = find_pulumi_bin()
        self._emulators: list[Emulator] = []
        self._made = 0

    def __enter__(self) -> Workspace:
        self.root.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *_: object) -> None:
        for emulator in self._emulators:
            emulator.stop()

    def emulator(self, *args: str) -> Emulator:
        log = self.root / f"emulator-{len(self._emulators) + 1}.log"
        emulator = launch_emulator(args, log)
        self._emulators.append(emulator)
        return emulator

    def fleet(
        self,
        emulator: Emulator,
        size: int,
        serving: Serving,
        *,
        prefix: str = "fleet",
        api: str = "infrahub",
    ) -> FleetRun:
        """A new stack of the fleet program, `size` VMs, served `serving`."""
        self._made += 1
        root = self.root / f"stack-{self._made}"
        env: dict[str, str] = {}
        if serving.parallel is not None:
            env["PULUMI_PARALLEL"] = str(serving.parallel)
        if serving.threads is not None:
            env[THREADS_VARIABLE] = str(serving.threads)
        if serving.requests_per_minute is not None:
            env[REQUESTS_PER_MINUTE_VARIABLE] = str(serving.requests_per_minute)
        project = new_project(
            self.pulumi_bin,
            root,
            FLEET_PROGRAM,
            emulator=emulator,
            config={
                "size": str(size),
                "shards": str(serving.shards),
                "prefix": prefix,
                "api": api,
            },
            env=env,
            name="fleet",
        )
        if serving.threads is not None:
            use_wide_pool(project.program_dir, root / "provider-plugin")
        return FleetRun(project, emulator, size, serving)


def use_wide_pool(program_dir: Path, plugin_dir: Path) -> None:
    """Does what the README asks of users: writes the plugin folder and
    points the project's Pulumi.yaml at it."""
    write_plugin(plugin_dir)
    project_file = program_dir / "Pulumi.yaml"
    settings = yaml.safe_load(project_file.read_text())
    settings["plugins"] = {
        "providers": [{"name": "pulumi-python", "path": str(plugin_dir)}]
    }
    project_file.write_text(yaml.safe_dump(settings, sort_keys=False))


@contextmanager
def workspace(name: str) -> Iterator[Workspace]:
    """A fresh workspace under `.bench/work/NAME`."""
    root = RESULTS / "work" / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    with Workspace(root) as made:
        yield made


# -- reporting ----------------------------------------------------------------


def print_table(title: str, rows: Sequence[Mapping[str, Any]]) -> None:
    print(f"\n{title}\n")
    print(tabulate(rows, headers="keys", floatfmt=".2f", disable_numparse=False))


def write_results(name: str, figures: Mapping[str, Any]) -> Path:
    """Writes `figures` to `.bench/NAME.json`, with where they were taken."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {
        "benchmark": name,
        "taken_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1m": os.getloadavg()[0],
        },
        **figures,
    }
    path.write_text(json.dumps(document, indent=2, default=_plain) + "\n")
    return path


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
