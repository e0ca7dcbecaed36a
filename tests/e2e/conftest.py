"""The end-to-end harness: the real Pulumi CLI, the emulator, temporary stacks.

Every test here drives the `pulumi` executable the way a user would, in a
project folder of its own, against a local file backend with passphrase
secrets and no network. Three fixtures make that short to write:

- `pulumi_bin`: the folder holding `pulumi` and its Python plugins. It comes
  from `$PULUMI_INFRAHUB_CLI_BIN` (set by `make test`) or from
  `scripts/get-pulumi.sh`; without a CLI the tests fail, saying how to get one.
- `emulator` / `start_emulator`: the Infrahub emulator as a separate process
  on a free port, stopped after the test; `Emulator.api()` calls it directly.
- `make_project`: a stack in a temporary folder, holding a copy of an example
  program, with `infrahub:apiUrl` and the secret `infrahub:apiKey` set when an
  emulator is given. It returns a `PulumiProject`, whose methods run `pulumi`
  commands and read outputs and state.

    def test_quickstart_exports_the_public_ip(emulator, make_project):
        project = make_project("quickstart", emulator=emulator)
        project.up()
        assert project.outputs()["public_ip"]
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
GET_PULUMI = REPO / "scripts" / "get-pulumi.sh"

PASSPHRASE = "e2e-passphrase"
DEFAULT_TIMEOUT = 300.0
"""Seconds one `pulumi` command may take before the test fails."""

EMULATOR_START_TIMEOUT = 30.0
GET_CLI_TIMEOUT = 45 * 60.0
"""A cold build of the CLI on two cores takes minutes, not hours."""

HOW_TO_GET_THE_CLI = (
    "Run `make cli` (it builds Pulumi from the Go module proxy into "
    "~/.cache/pulumi-infrahub and needs Go 1.26 or newer), or install Pulumi "
    "3.272+ and put it on PATH, or set PULUMI_INFRAHUB_CLI_BIN to the folder "
    "that holds `pulumi`."
)

# Variables of the calling shell that would point a test at another backend,
# another Pulumi home or a real Infrahub account.
FOREIGN_VARIABLE = re.compile(r"^(PULUMI_|INFRAHUB_|HYPERSTACK_)")

URL_PATTERN = re.compile(r"https?://[^\s\"'<>]+")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


# The CLI --------------------------------------------------------------------


def find_pulumi_bin() -> Path:
    """Returns the folder with `pulumi`, or fails the test saying how to get it."""
    given = os.environ.get("PULUMI_INFRAHUB_CLI_BIN")
    if given:
        folder = Path(given)
        if not os.access(folder / "pulumi", os.X_OK):
            pytest.fail(
                f"PULUMI_INFRAHUB_CLI_BIN is {given}, which holds no executable "
                f"`pulumi`. {HOW_TO_GET_THE_CLI}",
                pytrace=False,
            )
        return folder

    try:
        found = subprocess.run(
            ["bash", str(GET_PULUMI)],
            capture_output=True,
            text=True,
            timeout=GET_CLI_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as problem:
        pytest.fail(
            f"The Pulumi CLI is not available: {problem}. {HOW_TO_GET_THE_CLI}",
            pytrace=False,
        )
    lines = found.stdout.strip().splitlines()
    if found.returncode != 0 or not lines:
        pytest.fail(
            "The Pulumi CLI is not available; scripts/get-pulumi.sh said:\n"
            f"{found.stderr.strip()[-2000:]}\n{HOW_TO_GET_THE_CLI}",
            pytrace=False,
        )
    return Path(lines[-1])


@pytest.fixture(scope="session")
def pulumi_bin() -> Path:
    """The folder holding `pulumi` and the plugins it starts for Python."""
    return find_pulumi_bin()


# Running pulumi -------------------------------------------------------------


@dataclass(frozen=True)
class PulumiRun:
    """One finished `pulumi` command."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        """Everything the command printed, stdout first."""
        return self.stdout + self.stderr

    def describe(self) -> str:
        return (
            f"`pulumi {' '.join(self.args)}` exited with {self.returncode} after "
            f"{self.seconds:.1f}s\n--- stdout ---\n{self.stdout}\n"
            f"--- stderr ---\n{self.stderr}"
        )


def run_pulumi(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float = DEFAULT_TIMEOUT,
    check: bool = True,
) -> PulumiRun:
    """Runs `pulumi ARGS` non-interactively and returns what it printed.

    The command runs in its own process group, so that on a timeout the
    language host, the program and the providers are killed with it.
    """
    full = ("--non-interactive", "--color=never", *args)
    started = time.monotonic()
    process = subprocess.Popen(
        ["pulumi", *full],
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        run = PulumiRun(tuple(args), -1, stdout, stderr, time.monotonic() - started)
        pytest.fail(f"timed out after {timeout:.0f}s: {run.describe()}")

    run = PulumiRun(
        tuple(args), process.returncode, stdout, stderr, time.monotonic() - started
    )
    if check and run.returncode != 0:
        pytest.fail(run.describe(), pytrace=False)
    return run


@dataclass
class PulumiProject:
    """A stack in a temporary project folder, and the commands to drive it.

    `program_dir` holds the copied program and its Pulumi.yaml; edit files
    there to change the program between runs. Commands run with `env`, which
    points Pulumi at the project's own home, backend and passphrase.
    """

    program_dir: Path
    name: str
    stack: str
    env: dict[str, str]
    scratch_dir: Path
    runs: list[PulumiRun] = field(default_factory=list)

    def run(
        self, *args: str, check: bool = True, timeout: float = DEFAULT_TIMEOUT
    ) -> PulumiRun:
        """Runs `pulumi ARGS` in the project; fails the test on a non-zero exit
        unless `check` is false."""
        run = run_pulumi(
            args, cwd=self.program_dir, env=self.env, timeout=timeout, check=check
        )
        self.runs.append(run)
        return run

    def preview(self, *args: str, check: bool = True) -> PulumiRun:
        return self.run("preview", *args, check=check)

    def up(self, *args: str, check: bool = True) -> PulumiRun:
        return self.run("up", "--yes", *args, check=check)

    def refresh(self, *args: str, check: bool = True) -> PulumiRun:
        return self.run("refresh", "--yes", *args, check=check)

    def destroy(self, *args: str, check: bool = True) -> PulumiRun:
        return self.run("destroy", "--yes", *args, check=check)

    def config_set(self, key: str, value: str, *, secret: bool = False) -> None:
        """Sets stack config; keys without a namespace belong to the project."""
        flag = ("--secret",) if secret else ("--plaintext",)
        self.run("config", "set", *flag, key, "--", value)

    def outputs(self, *, show_secrets: bool = False) -> dict[str, Any]:
        """The stack outputs, from `pulumi stack output --json`."""
        args = ["stack", "output", "--json"]
        if show_secrets:
            args.append("--show-secrets")
        parsed: dict[str, Any] = json.loads(self.run(*args).stdout)
        return parsed

    def export(self, *, show_secrets: bool = False) -> dict[str, Any]:
        """The stack's state, from `pulumi stack export`."""
        args = ["stack", "export"]
        if show_secrets:
            args.append("--show-secrets")
        parsed: dict[str, Any] = json.loads(self.run(*args).stdout)
        return parsed

    def resources(self, type_token: str | None = None) -> list[dict[str, Any]]:
        """The resources in state, optionally only those of one type."""
        found: list[dict[str, Any]] = self.export()["deployment"].get("resources", [])
        if type_token is None:
            return found
        return [resource for resource in found if resource["type"] == type_token]

    def with_event_log(
        self, *args: str, check: bool = True
    ) -> tuple[PulumiRun, list[dict[str, Any]]]:
        """Runs `pulumi ARGS --event-log FILE` and returns the engine events."""
        log = self.scratch_dir / f"events-{len(self.runs)}.jsonl"
        run = self.run(*args, "--event-log", str(log), check=check)
        events = [
            json.loads(line) for line in log.read_text().splitlines() if line.strip()
        ]
        return run, events

    def printed(self) -> str:
        """Everything every command of this project printed so far."""
        return "".join(run.output for run in self.runs)


def project_virtualenv() -> Path | None:
    """The virtualenv the tests run in, which also runs the test programs."""
    if sys.prefix == sys.base_prefix:
        return None
    return Path(sys.prefix)


def base_environment(home: Path, state: Path) -> dict[str, str]:
    """The calling environment, cut loose from any real account, plus the
    switches that keep Pulumi offline and non-interactive."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not FOREIGN_VARIABLE.match(name)
    }
    env.update(
        {
            "PULUMI_HOME": str(home),
            "PULUMI_BACKEND_URL": state.as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SUPPRESS_NEO_LINK": "true",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PULUMI_PYTHON_CMD": sys.executable,
            # `--event-log`, which the preview report reads, is only offered
            # with the debug commands switched on.
            "PULUMI_DEBUG_COMMANDS": "true",
        }
    )
    return env


def write_project_file(program_dir: Path, name: str, virtualenv: Path | None) -> None:
    """Writes Pulumi.yaml for the copied program, keeping what the example's
    own file says apart from its name, main and runtime."""
    project_file = program_dir / "Pulumi.yaml"
    settings: dict[str, Any] = {}
    if project_file.exists():
        settings = yaml.safe_load(project_file.read_text()) or {}
    settings.pop("main", None)
    options: dict[str, str] = {"toolchain": "pip"}
    if virtualenv is not None:
        options["virtualenv"] = str(virtualenv)
    settings.update(name=name, runtime={"name": "python", "options": options})
    project_file.write_text(yaml.safe_dump(settings, sort_keys=False))


def example_path(example: str | Path) -> Path:
    path = Path(example)
    if not path.is_absolute():
        path = EXAMPLES / path
    if not (path / "__main__.py").exists():
        pytest.fail(f"{path} is not a Python program folder (no __main__.py)")
    return path


MakeProject = Callable[..., PulumiProject]


def new_project(
    pulumi_bin: Path,
    root: Path,
    example: str | Path,
    *,
    emulator: Emulator | None = None,
    config: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    name: str | None = None,
    stack: str = "e2e",
) -> PulumiProject:
    """A stack in the new folder `root`, holding a copy of `example` (a folder
    under examples/ by name, or any program folder by path), created and with
    its config set. The `make_project` fixture calls this; so do the
    benchmarks, outside pytest."""
    source = example_path(example)
    program_dir = root / "program"
    shutil.copytree(
        source,
        program_dir,
        ignore=shutil.ignore_patterns("__pycache__", "Pulumi.*.yaml"),
    )
    project_name = name or re.sub(r"[^A-Za-z0-9-]", "-", source.name)
    write_project_file(program_dir, project_name, project_virtualenv())

    for folder in ("home", "state", "scratch"):
        (root / folder).mkdir()
    project_env = base_environment(root / "home", root / "state")
    project_env["PATH"] = os.pathsep.join(
        [str(pulumi_bin), project_env.get("PATH", "")]
    )
    project_env.update(env or {})

    project = PulumiProject(
        program_dir=program_dir,
        name=project_name,
        stack=stack,
        env=project_env,
        scratch_dir=root / "scratch",
    )
    project.run("stack", "init", stack, "--secrets-provider", "passphrase")
    if emulator is not None:
        project.config_set("infrahub:apiUrl", emulator.base_url)
        project.config_set("infrahub:apiKey", emulator.api_key, secret=True)
    for key, value in (config or {}).items():
        project.config_set(key, value)
    for key, value in (secrets or {}).items():
        project.config_set(key, value, secret=True)
    return project


@pytest.fixture
def make_project(pulumi_bin: Path, tmp_path: Path) -> MakeProject:
    """Returns `make(example, *, emulator=None, config={}, secrets={},
    env={}, name=None, stack="e2e") -> PulumiProject`.

    `example` is a folder under examples/ (by name) or any program folder (by
    path). The stack is created and its config set before it is returned.
    """
    made = 0

    def make(example: str | Path, **options: Any) -> PulumiProject:
        nonlocal made
        made += 1
        return new_project(pulumi_bin, tmp_path / f"project-{made}", example, **options)

    return make


# The emulator ---------------------------------------------------------------


@dataclass
class Emulator:
    """A running emulator process and how to reach it."""

    base_url: str
    api_key: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        """What the emulator printed so far."""
        return self.log_path.read_text(errors="replace")

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Calls the emulator's API as the tenant of `api_key`, for looking at
        or changing what it holds behind Pulumi's back. `path` is relative to
        `base_url`, e.g. `/core/virtual-machines`."""
        headers = {"api_key": self.api_key, **kwargs.pop("headers", {})}
        return httpx.request(
            method, self.base_url + path, headers=headers, timeout=30, **kwargs
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def emulator_command() -> Path:
    command = Path(sys.executable).parent / "pulumi-infrahub"
    if not command.exists():
        pytest.fail(
            f"{command} is missing: install the package into the test "
            "virtualenv with `make install` (pip install -e '.[dev]').",
            pytrace=False,
        )
    return command


def default_api_key() -> str:
    # Imported late, so that tests which need no emulator still run when the
    # emulator package is broken.
    from pulumi_infrahub.emulator.settings import DEMO_API_KEY

    return DEMO_API_KEY


def launch_emulator(
    args: Sequence[str], log_path: Path, api_key: str | None = None
) -> Emulator:
    """Starts `pulumi-infrahub emulator --port 0 ARGS` and waits for the base
    URL it prints; fails the test if none appears in time."""
    log = log_path.open("wb")
    env = {
        name: value
        for name, value in os.environ.items()
        if not FOREIGN_VARIABLE.match(name)
    }
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(
        [str(emulator_command()), "emulator", "--port", "0", *args],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    log.close()

    deadline = time.monotonic() + EMULATOR_START_TIMEOUT
    while time.monotonic() < deadline:
        found = URL_PATTERN.search(log_path.read_text(errors="replace"))
        if found:
            return Emulator(
                base_url=found.group(0).rstrip(".,;"),
                api_key=api_key or default_api_key(),
                process=process,
                log_path=log_path,
            )
        if process.poll() is not None:
            break
        time.sleep(0.05)

    if process.poll() is None:
        process.kill()
        process.wait()
    pytest.fail(
        "The emulator printed no base URL within "
        f"{EMULATOR_START_TIMEOUT:.0f}s (exit code {process.returncode}):\n"
        f"{log_path.read_text(errors='replace')}",
        pytrace=False,
    )


StartEmulator = Callable[..., Emulator]


@pytest.fixture
def start_emulator(tmp_path: Path) -> Iterator[StartEmulator]:
    """Returns `start(*args, api_key=None) -> Emulator`, for emulators with
    extra command-line options (faults, delays, a key of their own). Pass
    `api_key` when `args` configure a key other than the demo key. Every
    emulator started is stopped after the test."""
    started: list[Emulator] = []

    def start(*args: str, api_key: str | None = None) -> Emulator:
        log_path = tmp_path / f"emulator-{len(started) + 1}.log"
        emulator = launch_emulator(args, log_path, api_key)
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def emulator(start_emulator: StartEmulator) -> Emulator:
    """An emulator whose transitions settle at once (`--no-delays`), accepting
    the demo key, stopped after the test."""
    return start_emulator("--no-delays")
