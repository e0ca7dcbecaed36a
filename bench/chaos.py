"""`make chaos`: the fleet through `up`, a change and `destroy`, several
rounds, while the emulator misbehaves.

Faults in force during every `pulumi` command of a round: 10 % of API
requests answered 500, 0 to 200 ms of added latency per answer, a burst of
429 answers at the start of each command, one create per round committed
and then its connection dropped, and, in the first round, one VM that ends
in ERROR instead of booting. A step that fails is run again, up to a limit,
as a user would.

After every command, faults paused, the emulator is compared with the stack's
state. The run holds the product to four promises:

- every command either succeeds or fails with an error that names the
  resource and the cause;
- nothing exists that the state does not know about (no orphan), and after
  the final `destroy` nothing exists at all;
- no two VMs or volumes share a name (no duplicate from a retried create);
- after a successful `up`, `pulumi refresh --expect-no-changes` passes (no
  drift).

    python -m bench.chaos [--size 8] [--rounds 3]

Prints the counts (runs, failures by cause, orphans, duplicates, drift) and
writes them to `.bench/chaos.json`; exits 1 when a promise was broken.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.fleet import (
    BENCH_DELAYS,
    WIDE_POOL,
    FleetRun,
    admin,
    emulator_args,
    print_table,
    workspace,
    write_results,
)

__all__ = [
    "CAUSES",
    "ChaosPlan",
    "ChaosReport",
    "run_chaos",
]

# What the errors of a failed command are put down to, first match wins.
CAUSES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("VM ended in ERROR", re.compile(r"went into ERROR|is in ERROR")),
    ("API answered 5xx", re.compile(r"HTTP 5\d\d")),
    ("API answered 429", re.compile(r"HTTP 429")),
    ("answer lost", re.compile(r"got no answer")),
    ("timeout", re.compile(r"timeout ran out|still .* after \d+ s")),
)
UNEXPLAINED = "unexplained"


@dataclass(frozen=True)
class ChaosPlan:
    """How big the fleet is, how long transitions take and how hard the
    emulator fails."""

    size: int = 8
    rounds: int = 3
    delays: Mapping[str, float] = field(default_factory=lambda: dict(BENCH_DELAYS))
    error_rate: float = 0.10
    latency_jitter_ms: float = 200.0
    burst: int = 10
    """429 answers at the start of every command."""
    drops_per_round: int = 1
    attempts: int = 10
    """Tries of one step before the round gives up."""
    prefix: str = "chaos"

    @property
    def error_vm(self) -> str:
        """The VM that ends in ERROR in the first round."""
        return f"{self.prefix}-vm-01"


@dataclass
class Failure:
    resource: str
    cause: str
    message: str


@dataclass
class CommandResult:
    round: int
    step: str
    attempt: int
    ok: bool
    seconds: float
    failures: list[Failure]
    unnamed_failure: bool
    """Failed without an error tied to a resource."""
    orphans: list[str]
    duplicates: list[str]
    drift: bool | None = None
    """After a successful up: whether refresh found changes."""


@dataclass
class ChaosReport:
    plan: ChaosPlan
    commands: list[CommandResult] = field(default_factory=list)
    left_at_end: list[str] = field(default_factory=list)
    steps_given_up: list[str] = field(default_factory=list)

    @property
    def failures_by_cause(self) -> dict[str, int]:
        counts = Counter(f.cause for c in self.commands for f in c.failures)
        return dict(counts.most_common())

    @property
    def orphans(self) -> int:
        return sum(len(c.orphans) for c in self.commands)

    @property
    def duplicates(self) -> int:
        return sum(len(c.duplicates) for c in self.commands)

    @property
    def drifted(self) -> int:
        return sum(1 for c in self.commands if c.drift)

    @property
    def problems(self) -> list[str]:
        """Every broken promise, in words; empty when all were kept."""
        found = []
        for c in self.commands:
            where = f"round {c.round} {c.step} attempt {c.attempt}"
            if c.unnamed_failure:
                found.append(f"{where}: failed without naming a resource")
            found += [
                f"{where}: {f.resource} failed for no recognised cause: "
                f"{f.message[-300:]}"
                for f in c.failures
                if f.cause == UNEXPLAINED
            ]
            found += [f"{where}: orphan {o}" for o in c.orphans]
            found += [f"{where}: duplicate {d}" for d in c.duplicates]
            if c.drift:
                found.append(f"{where}: refresh found drift after a successful up")
        found += [f"left after the final destroy: {o}" for o in self.left_at_end]
        found += [
            f"gave up: {given_up}; its last try failed with: {self.last_failures()}"
            for given_up in self.steps_given_up
        ]
        return found

    def last_failures(self) -> str:
        if not self.commands:
            return "nothing"
        return "; ".join(
            f"{f.resource} ({f.cause}): {f.message[-300:]}"
            for f in self.commands[-1].failures
        )

    def counts(self) -> dict[str, Any]:
        return {
            "runs": len(self.commands),
            "succeeded": sum(1 for c in self.commands if c.ok),
            "failed": sum(1 for c in self.commands if not c.ok),
            "failures by cause": self.failures_by_cause,
            "orphans": self.orphans,
            "duplicates": self.duplicates,
            "drift after up": self.drifted,
            "left after final destroy": len(self.left_at_end),
            "steps given up": len(self.steps_given_up),
        }


# -- faults -------------------------------------------------------------------


class FaultSwitch:
    """Arms the emulator's faults for one command, and disarms them for the
    checks that read the emulator between commands."""

    def __init__(self, fleet: FleetRun, plan: ChaosPlan) -> None:
        self.fleet = fleet
        self.plan = plan
        self.drops_left = 0
        self.error_vm: str | None = None

    def new_round(self, number: int) -> None:
        self.drops_left = self.plan.drops_per_round
        self.error_vm = self.plan.error_vm if number == 1 else None

    def arm(self) -> None:
        fields: dict[str, Any] = {
            "error_rate": self.plan.error_rate,
            "latency_jitter_ms": self.plan.latency_jitter_ms,
            "rate_limit_burst": self.plan.burst,
            "drop_after_create": self.drops_left,
        }
        if self.error_vm is not None:
            fields["vm_error_pattern"] = self.error_vm
        admin(self.fleet.emulator, "PUT", "faults", json=fields)

    def disarm(self) -> None:
        # A drop not yet spent carries over to the next command of the round.
        state = admin(self.fleet.emulator, "GET", "faults").json()
        self.drops_left = int(state.get("drop_after_create_left", 0))
        admin(self.fleet.emulator, "DELETE", "faults")


# -- reading what happened ----------------------------------------------------


def resource_errors(events: Sequence[Mapping[str, Any]]) -> list[Failure]:
    """The errors the engine tied to a resource, with their causes."""
    found = []
    for event in events:
        diagnostic = event.get("diagnosticEvent")
        if not diagnostic or diagnostic.get("severity") != "error":
            continue
        urn = diagnostic.get("urn") or ""
        if not urn:
            continue
        message = diagnostic.get("message", "")
        cause = next(
            (name for name, pattern in CAUSES if pattern.search(message)),
            UNEXPLAINED,
        )
        found.append(Failure(urn.rsplit("::", 1)[-1], cause, message.strip()))
    return found


def holdings(fleet: FleetRun) -> dict[str, dict[int, str]]:
    """What the emulator holds for the stack's tenant: VMs, volumes, ingress
    rules and attachments, each id with a readable name."""
    vms = fleet.emulator.api("GET", "/core/virtual-machines").json()["instances"]
    volumes = fleet.emulator.api("GET", "/core/volumes").json()["volumes"]
    rules = {
        rule["id"]: f"rule {rule['id']} on {vm['name']}"
        for vm in vms
        for rule in vm.get("security_rules") or []
        # The API gives every VM its own egress rules; the fleet makes none.
        if rule.get("direction") == "ingress"
    }
    attachments = {
        attachment["id"]: f"attachment of {volume['name']}"
        for volume in volumes
        for attachment in volume.get("attachments") or []
    }
    return {
        "VirtualMachine": {vm["id"]: vm["name"] for vm in vms},
        "Volume": {volume["id"]: volume["name"] for volume in volumes},
        "SecurityRule": rules,
        "VolumeAttachment": attachments,
    }


def state_ids(fleet: FleetRun) -> dict[str, set[int]]:
    ids: dict[str, set[int]] = {kind: set() for kind in _KINDS}
    for resource in fleet.project.resources():
        kind = resource["type"].rsplit(":", 1)[-1]
        if kind in ids and resource.get("id"):
            ids[kind].add(int(resource["id"]))
    return ids


_KINDS = ("VirtualMachine", "Volume", "SecurityRule", "VolumeAttachment")


def orphans_and_duplicates(fleet: FleetRun) -> tuple[list[str], list[str]]:
    held = holdings(fleet)
    known = state_ids(fleet)
    orphans = [
        f"{kind} {id_} ({name})"
        for kind in _KINDS
        for id_, name in held[kind].items()
        if id_ not in known[kind]
    ]
    duplicates = [
        f"{kind} name {name!r} x{count}"
        for kind in ("VirtualMachine", "Volume")
        for name, count in Counter(held[kind].values()).items()
        if count > 1
    ]
    return orphans, duplicates


# -- the run ------------------------------------------------------------------


class Chaos:
    def __init__(self, fleet: FleetRun, plan: ChaosPlan) -> None:
        self.fleet = fleet
        self.plan = plan
        self.faults = FaultSwitch(fleet, plan)
        self.report = ChaosReport(plan)

    def run(self) -> ChaosReport:
        for number in range(1, self.plan.rounds + 1):
            self.faults.new_round(number)
            self.fleet.project.config_set("round", f"{number}-a")
            if not self.step(number, "up"):
                break
            self.fleet.project.config_set("round", f"{number}-b")
            if not self.step(number, "change"):
                break
            if not self.step(number, "destroy"):
                break
        self.final_destroy()
        return self.report

    def step(self, number: int, step: str) -> bool:
        """Runs one step until it succeeds; False when it never did."""
        command = "destroy" if step == "destroy" else "up"
        for attempt in range(1, self.plan.attempts + 1):
            result = self.command(number, step, attempt, command)
            if result.ok:
                if command == "up":
                    result.drift = not self.refresh_finds_nothing()
                return True
            if any(f.cause == "VM ended in ERROR" for f in result.failures):
                # The one VM that fails to boot has done its part.
                self.faults.error_vm = None
        self.report.steps_given_up.append(f"round {number} {step}")
        return False

    def command(
        self, number: int, step: str, attempt: int, command: str
    ) -> CommandResult:
        self.faults.arm()
        try:
            run, events = self.fleet.project.with_event_log(
                command, "--yes", check=False
            )
        finally:
            self.faults.disarm()
        failures = resource_errors(events) if run.returncode != 0 else []
        orphans, duplicates = orphans_and_duplicates(self.fleet)
        result = CommandResult(
            round=number,
            step=step,
            attempt=attempt,
            ok=run.returncode == 0,
            seconds=run.seconds,
            failures=failures,
            unnamed_failure=run.returncode != 0 and not failures,
            orphans=orphans,
            duplicates=duplicates,
        )
        if result.unnamed_failure:
            result.failures.append(
                Failure("(none)", UNEXPLAINED, run.output[-1500:].strip())
            )
        self.report.commands.append(result)
        return result

    def refresh_finds_nothing(self) -> bool:
        # Without faults: a refresh that failed for a 500 would read as drift.
        run = self.fleet.project.refresh("--expect-no-changes", check=False)
        return run.returncode == 0

    def final_destroy(self) -> None:
        """Destroys whatever is left without faults, then looks for leftovers."""
        if any(state_ids(self.fleet).values()):
            self.fleet.project.destroy(check=False)
        held = holdings(self.fleet)
        self.report.left_at_end = [
            f"{kind} {id_} ({name})"
            for kind, objects in held.items()
            for id_, name in objects.items()
        ]


def run_chaos(fleet: FleetRun, plan: ChaosPlan) -> ChaosReport:
    """Runs `plan` on a fleet stack whose emulator has the plan's delays."""
    fleet.project.config_set("prefix", plan.prefix)
    return Chaos(fleet, plan).run()


def report_rows(report: ChaosReport) -> list[dict[str, Any]]:
    return [
        {
            "round": c.round,
            "step": c.step,
            "try": c.attempt,
            "ok": c.ok,
            "seconds": c.seconds,
            "failed resources": ", ".join(
                f"{f.resource}: {f.cause}" for f in c.failures
            ),
            "orphans": len(c.orphans),
            "duplicates": len(c.duplicates),
            "drift": "" if c.drift is None else c.drift,
        }
        for c in report.commands
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--size", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    plan = ChaosPlan(size=args.size, rounds=args.rounds)

    with workspace("chaos") as ws:
        emulator = ws.emulator(*emulator_args(plan.delays), "--seed", str(args.seed))
        fleet = ws.fleet(emulator, plan.size, WIDE_POOL, prefix=plan.prefix)
        report = run_chaos(fleet, plan)

    print_table(
        f"Chaos: N={plan.size}, {plan.rounds} rounds, delays {dict(plan.delays)}",
        report_rows(report),
    )
    counts = report.counts()
    print("\n" + json.dumps(counts, indent=2))
    problems = report.problems
    for problem in problems:
        print(f"PROBLEM: {problem}")
    path: Path = write_results(
        "chaos",
        {
            "plan": plan,
            "counts": counts,
            "problems": problems,
            "commands": report.commands,
        },
    )
    print(f"\nwritten to {path}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
