"""Regenerate the preview-report goldens from real previews: `make goldens`.

Starts the emulator, deploys `golden_program` (scenario `base`) with the real
Pulumi CLI against it, then previews each scenario with the example policy
pack, keeping what the CLI wrote: the event log (`--event-log`), the
`--json` digest and the CLI's exit code. The emulator's pricebook is saved
beside them, and the reports the current renderer makes from each event log
are written as the expected output (`--render-only` rewrites just those).
Review the diff of `golden/` before committing it: the inputs come from the
CLI; the reports are what the tests will hold the renderer to.

Needs the CLI (PULUMI_INFRAHUB_CLI_BIN, or scripts/get-pulumi.sh finds or
builds it) and the package installed in this Python (`make install`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from pulumi_infrahub.report import (
    Pricebook,
    exit_status,
    gpu_bill,
    read_digest,
    read_event_log,
    render_report,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
GOLDEN = HERE / "golden"
PROGRAM = HERE / "golden_program"
POLICY_PACK = REPO / "examples" / "policy-pack"
POLICY_CONFIG = POLICY_PACK / "gpu-limits.json"

# Each scenario is previewed against the deployed `base`.
SCENARIOS = (
    "no-change",
    "update",
    "replace",
    "create-delete",
    "policy",
    "secret",
    "failed",
    "large",
)

# One step at a time, so that ids and event order come out the same on every
# run and a regenerated golden differs only where something changed.
SERIAL = ("--parallel", "1")

STACK = "golden"
PASSPHRASE = "golden-passphrase"
COMMAND_TIMEOUT = 900.0
URL = re.compile(r"https?://[^\s\"'<>]+")
FOREIGN = re.compile(r"^(PULUMI_|INFRAHUB_|HYPERSTACK_)")

# The temporary project folder appears in source positions the CLI records;
# it is replaced so that regenerating changes nothing that did not change.
PROJECT_PLACEHOLDER = "/golden-project"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="keep the recorded previews; only rewrite the expected reports",
    )
    if parser.parse_args(argv).render_only:
        render_expected()
        return 0

    cli = find_cli()
    with tempfile.TemporaryDirectory(prefix="report-goldens-") as scratch:
        root = Path(scratch)
        with emulator(root / "emulator.log") as (base_url, api_key):
            project = make_project(root, cli, base_url, api_key)
            pulumi(project, "config", "set", "scenario", "base")
            pulumi(project, "up", "--yes", *SERIAL)
            save_pricebook(base_url, api_key)
            for scenario in SCENARIOS:
                record(project, scenario, root)
            pulumi(project, "destroy", "--yes")
    render_expected()
    print(f"goldens written to {GOLDEN}", file=sys.stderr)
    return 0


def find_cli() -> Path:
    given = os.environ.get("PULUMI_INFRAHUB_CLI_BIN")
    if given:
        return Path(given)
    found = subprocess.run(
        ["bash", str(REPO / "scripts" / "get-pulumi.sh")],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(found.stdout.strip().splitlines()[-1])


@contextmanager
def emulator(log_path: Path) -> Iterator[tuple[str, str]]:
    """A fresh emulator with no delays, as (base URL, API key)."""
    from pulumi_infrahub.emulator.settings import DEMO_API_KEY

    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "pulumi_infrahub.cli", "emulator"),
                *("--port", "0", "--no-delays", "--seed", "1"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**clean_environment(), "PYTHONUNBUFFERED": "1"},
        )
    try:
        deadline = time.monotonic() + 30
        while not (found := URL.search(log_path.read_text(errors="replace"))):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the emulator did not start:\n{log_path.read_text()}")
            time.sleep(0.05)
        yield found.group(0).rstrip(".,;"), DEMO_API_KEY
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def clean_environment() -> dict[str, str]:
    return {
        name: value for name, value in os.environ.items() if not FOREIGN.match(name)
    }


class Project:
    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = env


def make_project(root: Path, cli: Path, base_url: str, api_key: str) -> Project:
    folder = root / "program"
    shutil.copytree(PROGRAM, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "Pulumi.yaml").write_text(
        "name: golden\n"
        "runtime:\n"
        "  name: python\n"
        "  options:\n"
        "    toolchain: pip\n"
        f"    virtualenv: {sys.prefix}\n"
    )
    for name in ("home", "state"):
        (root / name).mkdir()
    env = clean_environment()
    env.update(
        {
            "PATH": f"{cli}{os.pathsep}{env.get('PATH', '')}",
            "PULUMI_HOME": str(root / "home"),
            "PULUMI_BACKEND_URL": (root / "state").as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_PYTHON_CMD": sys.executable,
            # `--event-log` is offered only with debug commands on.
            "PULUMI_DEBUG_COMMANDS": "true",
            "PYTHONPATH": str(REPO),
        }
    )
    project = Project(folder, env)
    pulumi(project, "stack", "init", STACK, "--secrets-provider", "passphrase")
    pulumi(project, "config", "set", "infrahub:apiUrl", base_url)
    pulumi(project, "config", "set", "--secret", "infrahub:apiKey", api_key)
    return project


def pulumi(
    project: Project, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    ran = subprocess.run(
        ["pulumi", "--non-interactive", "--color=never", *args],
        cwd=project.folder,
        env=project.env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    if check and ran.returncode != 0:
        raise SystemExit(
            f"`pulumi {' '.join(args)}` exited {ran.returncode}:\n"
            f"{ran.stdout[-4000:]}\n{ran.stderr[-4000:]}"
        )
    return ran


def save_pricebook(base_url: str, api_key: str) -> None:
    answer = httpx.get(f"{base_url}/pricebook", headers={"api_key": api_key})
    answer.raise_for_status()
    GOLDEN.mkdir(exist_ok=True)
    (GOLDEN / "pricebook.json").write_text(json.dumps(answer.json(), indent=2) + "\n")


def record(project: Project, scenario: str, root: Path) -> None:
    """Preview one scenario; keep its event log, digest and exit code."""
    folder = GOLDEN / scenario
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    events = root / f"{scenario}.jsonl"
    setting = "base" if scenario == "no-change" else scenario
    pulumi(project, "config", "set", "scenario", setting)
    ran = pulumi(
        project,
        "preview",
        "--json",
        "--event-log",
        str(events),
        *SERIAL,
        *policy_args(),
        check=False,
    )
    write_scrubbed(folder / "events.jsonl", events.read_text(), project.folder)
    write_scrubbed(folder / "preview.json", ran.stdout, project.folder)
    meta = {"scenario": scenario, "pulumi_exit_code": ran.returncode}
    (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"{scenario}: pulumi preview exited {ran.returncode}", file=sys.stderr)


def policy_args() -> Sequence[str]:
    return (
        "--policy-pack",
        str(POLICY_PACK),
        "--policy-pack-config",
        str(POLICY_CONFIG),
    )


def write_scrubbed(path: Path, text: str, project_folder: Path) -> None:
    for local in sorted({str(project_folder), str(project_folder.resolve())}, key=len)[
        ::-1
    ]:
        text = text.replace(local, PROJECT_PLACEHOLDER)
    path.write_text(text)


def render_expected() -> None:
    """Write what the renderer makes of each event log, in both formats."""
    pricebook = Pricebook.from_entries(
        json.loads((GOLDEN / "pricebook.json").read_text())
    )
    for scenario in SCENARIOS:
        folder = GOLDEN / scenario
        preview = read_event_log(folder / "events.jsonl")
        bill = gpu_bill(preview, pricebook)
        for fmt, name in (("markdown", "report.md"), ("text", "report.txt")):
            (folder / name).write_text(render_report(preview, bill, fmt=fmt))
        digest = read_digest(folder / "preview.json")
        (folder / "report-from-json.md").write_text(
            render_report(digest, gpu_bill(digest, pricebook))
        )
        print(f"{scenario}: report exit status {exit_status(preview)}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
