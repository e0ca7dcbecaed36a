"""The fleet under faults, with the real CLI: a small version of `make chaos`.

Four VMs, each with a volume, an attachment and two firewall rules, go
through `up`, a change and `destroy`, twice, while the emulator answers 10 %
of requests with 500, adds up to 200 ms to every answer, opens each command
with a burst of six 429s, drops the connection of one committed create per
round and, in the first round, lets one VM end in ERROR. Every failed command must
name the resource and the cause; nothing may exist that the state does not
know about, no name may appear twice, a successful `up` must leave nothing
for `refresh` to find, and the final `destroy` must leave the emulator empty.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bench.chaos import ChaosPlan, run_chaos
from bench.fleet import (
    FLEET_PROGRAM,
    WIDE_POOL,
    FleetRun,
    emulator_args,
    logged_requests,
    use_wide_pool,
)
from pulumi_infrahub.provider_server import THREADS_VARIABLE

from .conftest import MakeProject, StartEmulator

PLAN = ChaosPlan(
    size=4,
    rounds=2,
    delays={"boot": 1.0, "public_ip": 0.5, "attach": 0.5, "detach": 0.5},
    # One more 429 than the vendor's five tries: the client must wait out a
    # throttled window, not give up. `make chaos` sends bursts of ten.
    burst=6,
)


def test_the_fleet_keeps_its_promises_under_faults(
    start_emulator: StartEmulator, make_project: MakeProject, tmp_path: Path
) -> None:
    emulator = start_emulator(*emulator_args(PLAN.delays), "--seed", "7")
    project = make_project(
        FLEET_PROGRAM,
        emulator=emulator,
        config={"size": str(PLAN.size), "prefix": PLAN.prefix},
        env={
            "PULUMI_PARALLEL": str(WIDE_POOL.parallel),
            THREADS_VARIABLE: str(WIDE_POOL.threads),
        },
        name="fleet",
    )
    use_wide_pool(project.program_dir, tmp_path / "provider-plugin")

    report = run_chaos(FleetRun(project, emulator, PLAN.size, WIDE_POOL), PLAN)

    assert report.problems == [], "\n".join(report.problems)
    # The faults were in force: the API failed and throttled, a VM broke.
    statuses = Counter(entry["status"] for entry in logged_requests(emulator))
    assert statuses[500] > 0 and statuses[429] > 0, statuses
    assert "VM ended in ERROR" in report.failures_by_cause
    rounds_done = {c.round for c in report.commands if c.step == "destroy" and c.ok}
    assert rounds_done == {1, 2}
