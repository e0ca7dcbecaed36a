"""A Pulumi language host for Python programs.

The Pulumi CLI starts a language plugin for every project whose runtime is
`python`, talks to it over gRPC (the `LanguageRuntime` service of the Pulumi
protocol) and asks it to run the program. This host serves that service with
the stubs generated into the Pulumi Python SDK, so it needs nothing but a
Python with `pulumi` installed; the `pulumi-language-python` launcher beside
this file chooses that Python.

What it does for each call the engine makes:

- `Run` starts `run_program.py` (beside this file) in the program's own Python,
  with the resource monitor address and settings as flags and the stack
  config in `PULUMI_CONFIG` / `PULUMI_CONFIG_SECRET_KEYS`.
- `RunPlugin` starts plugins written in Python, policy packs among them (see
  `policy_proxy.py` for the packs' extra start-up step).
- `GetRequiredPackages` checks that the program's Python exists and reports no
  packages, so that the engine never downloads a plugin.
- `About`, `GetPluginInfo`, `Handshake` and `Cancel` do what their names say.

Everything else (code generation, dependency installation, `pulumi new`
templates) answers UNIMPLEMENTED, which the engine treats as "not supported".
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

try:
    import grpc
    from google.protobuf import empty_pb2, json_format
    from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2
except ImportError as missing:
    sys.stderr.write(
        f"pulumi-language-python: {sys.executable} cannot import the Pulumi SDK "
        f"({missing}). Set PULUMI_PYTHON_CMD to a Python that has `pulumi` "
        "installed, or create the project's virtualenv.\n"
    )
    sys.exit(1)

from policy_proxy import PolicyProxy

HERE = Path(__file__).resolve().parent
PROGRAM_RUNNER = HERE / "run_program.py"

# The program runner exits with this code after it has shown the user an
# error of its own; the engine is then told to stop without adding another.
EXIT_AFTER_REPORTED_ERROR = 32

# Programs and plugins get this long to stop after an interrupt before they
# are killed.
STOP_GRACE_SECONDS = 5.0

# Resource state can be large; the engine's own limit is in this range.
MAX_MESSAGE_BYTES = 400 * 1024 * 1024


class HostError(Exception):
    """A problem with the project's setup, worded for the person running it."""


@dataclass(frozen=True)
class Interpreter:
    """The Python that runs a program or plugin, and its environment."""

    python: str
    env: Mapping[str, str]


def runtime_options(info: language_pb2.ProgramInfo) -> dict[str, Any]:
    """Returns Pulumi.yaml's `runtime.options` from a request's program info."""
    if not info.HasField("options"):
        return {}
    options: dict[str, Any] = json_format.MessageToDict(info.options)
    return options


def choose_interpreter(
    info: language_pb2.ProgramInfo,
    base_env: Mapping[str, str],
    fallback: str = "python3",
) -> Interpreter:
    """Picks the Python for a program or policy pack from its runtime options.

    A `virtualenv` option (relative to the project root) wins; otherwise
    `PULUMI_PYTHON_CMD`, otherwise `fallback`. Virtualenvs are never created
    here: a missing one is an error that says how to make it, so that no run
    reaches for the network.
    """
    options = runtime_options(info)
    toolchain = options.get("toolchain", "pip")
    if toolchain not in ("pip", "uv"):
        raise HostError(
            f"Pulumi.yaml sets runtime.options.toolchain to {toolchain!r}, which "
            "this language host does not support; use `toolchain: pip` with an "
            "existing virtualenv."
        )
    if "typechecker" in options:
        raise HostError(
            "Pulumi.yaml sets runtime.options.typechecker, which this language "
            "host does not support; remove it and run the type checker yourself."
        )

    venv = options.get("virtualenv")
    if venv is None and toolchain == "uv":
        venv = ".venv"
    if not venv:
        python = base_env.get("PULUMI_PYTHON_CMD") or fallback
        return Interpreter(python=python, env=dict(base_env))
    if not isinstance(venv, str):
        raise HostError("Pulumi.yaml's runtime.options.virtualenv must be a string.")

    root = Path(info.root_directory or info.program_directory or ".")
    venv_dir = (root / venv).resolve()
    venv_python = venv_dir / "bin" / "python"
    if not venv_python.exists():
        raise HostError(
            f"The virtualenv {venv_dir} named by Pulumi.yaml "
            "(runtime.options.virtualenv) does not exist or has no bin/python. "
            f"Create it with `python3 -m venv {venv_dir}` and install the "
            "program's dependencies into it; this host never creates one, so "
            "that runs stay offline."
        )

    env = dict(base_env)
    env["VIRTUAL_ENV"] = str(venv_dir)
    env["PATH"] = os.pathsep.join([str(venv_dir / "bin"), env.get("PATH", "")])
    env.pop("PYTHONHOME", None)
    return Interpreter(python=str(venv_python), env=env)


def runner_arguments(
    request: language_pb2.RunRequest, engine_address: str
) -> list[str]:
    """Builds the command-line flags of `run_program.py` for one Run call."""
    flags = {
        "--monitor": request.monitor_address,
        "--engine": engine_address,
        "--project": request.project,
        "--stack": request.stack,
        "--organization": request.organization,
        "--root-directory": request.info.root_directory,
        "--pwd": request.pwd,
        "--parallel": str(request.parallel),
        "--dry-run": "true" if request.dryRun else "false",
    }
    args = [f"{flag}={value}" for flag, value in flags.items() if value]

    program_dir = Path(request.info.program_directory or request.pwd or ".")
    entry = request.info.entry_point or "."
    args.append(str(program_dir / entry))
    args.extend(request.args)
    return args


def config_environment(request: language_pb2.RunRequest) -> dict[str, str]:
    """The variables through which the SDK reads stack config and secret keys."""
    return {
        "PULUMI_CONFIG": json.dumps(dict(request.config)),
        "PULUMI_CONFIG_SECRET_KEYS": json.dumps(list(request.configSecretKeys)),
    }


def run_error_for_exit(code: int) -> language_pb2.RunResponse:
    """Translates the program runner's exit code into the engine's answer."""
    if code == 0:
        return language_pb2.RunResponse()
    if code == EXIT_AFTER_REPORTED_ERROR:
        return language_pb2.RunResponse(bail=True)
    if code < 0:
        return language_pb2.RunResponse(error=f"program was stopped by signal {-code}")
    return language_pb2.RunResponse(
        error=f"program exited with non-zero exit code: {code}"
    )


class Children:
    """The processes this host started, so Cancel and shutdown can stop them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()

    def start(self, args: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(args, stdin=subprocess.DEVNULL, **kwargs)
        with self._lock:
            self._running.add(process)
        return process

    def finished(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._running.discard(process)

    def stop_all(self) -> None:
        with self._lock:
            running = list(self._running)
        for process in running:
            stop_process(process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Interrupts a child, then kills it if it has not gone after a grace time."""
    if process.poll() is not None:
        return
    try:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
    except ProcessLookupError:
        pass


class OutputPump:
    """Turns a child's stdout and stderr into a stream of RunPlugin messages.

    Both pipes are read on their own threads and put, chunk by chunk, on one
    queue, so neither can fill up and block the child while the other waits.
    `first_line` (optional) gets stdout's first line and returns what of it
    to pass on: plugins print their port there, which the policy proxy must
    see before the engine does.
    """

    def __init__(self, process: subprocess.Popen[bytes], first_line: Any = None):
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue()
        self._first_line = first_line
        assert process.stdout is not None and process.stderr is not None
        self._threads = [
            threading.Thread(
                target=self._read, args=("stdout", process.stdout), daemon=True
            ),
            threading.Thread(
                target=self._read, args=("stderr", process.stderr), daemon=True
            ),
        ]
        for thread in self._threads:
            thread.start()

    def _read(self, name: str, pipe: Any) -> None:
        pending = b""
        waiting_for_line = name == "stdout" and self._first_line is not None
        fd = pipe.fileno()
        while chunk := os.read(fd, 65536):
            if waiting_for_line:
                pending += chunk
                line, newline, rest = pending.partition(b"\n")
                if not newline:
                    continue
                waiting_for_line = False
                chunk = self._first_line(line + newline) + rest
            if chunk:
                self._queue.put((name, chunk))
        if waiting_for_line:
            self._first_line(pending)
        pipe.close()
        self._queue.put(None)

    def messages(self) -> Iterator[language_pb2.RunPluginResponse]:
        open_pipes = len(self._threads)
        while open_pipes:
            item = self._queue.get()
            if item is None:
                open_pipes -= 1
                continue
            name, chunk = item
            if name == "stdout":
                yield language_pb2.RunPluginResponse(stdout=chunk)
            else:
                yield language_pb2.RunPluginResponse(stderr=chunk)


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    """The `LanguageRuntime` service for Python programs and plugins."""

    def __init__(self, engine_address: str | None) -> None:
        self.engine_address = engine_address or ""
        self.children = Children()

    def Handshake(
        self, request: language_pb2.LanguageHandshakeRequest, context: Any
    ) -> language_pb2.LanguageHandshakeResponse:
        self.engine_address = request.engine_address
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(self, request: Any, context: Any) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version=sdk_version())

    def GetRequiredPlugins(
        self, request: language_pb2.GetRequiredPluginsRequest, context: Any
    ) -> language_pb2.GetRequiredPluginsResponse:
        return language_pb2.GetRequiredPluginsResponse()

    def GetRequiredPackages(
        self, request: language_pb2.GetRequiredPackagesRequest, context: Any
    ) -> language_pb2.GetRequiredPackagesResponse:
        # Checked here because this is the first call of every preview and
        # update, so a missing virtualenv is reported before anything runs.
        # No packages are reported: plugins of provider SDKs installed in the
        # virtualenv are then loaded when the program first uses them instead
        # of up front, and dynamic providers need no plugin download at all.
        try:
            choose_interpreter(request.info, os.environ)
        except HostError as problem:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(problem))
        return language_pb2.GetRequiredPackagesResponse()

    def About(
        self, request: language_pb2.AboutRequest, context: Any
    ) -> language_pb2.AboutResponse:
        try:
            interpreter = choose_interpreter(request.info, os.environ)
            found = subprocess.run(
                [
                    interpreter.python,
                    "-c",
                    "import platform, sys; "
                    "print(sys.executable); print(platform.python_version())",
                ],
                capture_output=True,
                check=True,
                text=True,
                timeout=30,
                env=interpreter.env,
            )
        except (HostError, OSError, subprocess.SubprocessError) as problem:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(problem))
        executable, version = found.stdout.split()
        return language_pb2.AboutResponse(executable=executable, version=version)

    def Run(self, request: language_pb2.RunRequest, context: Any) -> Any:
        try:
            interpreter = choose_interpreter(request.info, os.environ)
        except HostError as problem:
            return language_pb2.RunResponse(error=str(problem))

        args = [
            interpreter.python,
            "-u",
            str(PROGRAM_RUNNER),
            *runner_arguments(request, self.engine_address),
        ]
        env = {**interpreter.env, **config_environment(request)}
        cwd = request.pwd or request.info.program_directory or None
        try:
            # The program writes to this host's own stdout and stderr, which
            # the engine already shows to the user.
            process = self.children.start(args, env=env, cwd=cwd)
        except OSError as problem:
            return language_pb2.RunResponse(
                error=f"could not start {interpreter.python}: {problem}"
            )

        context.add_callback(lambda: stop_process(process))
        try:
            code = process.wait()
        finally:
            self.children.finished(process)
        return run_error_for_exit(code)

    def RunPlugin(
        self, request: language_pb2.RunPluginRequest, context: Any
    ) -> Iterator[language_pb2.RunPluginResponse]:
        is_policy_pack = request.kind == "analyzer"
        base_env = plugin_environment(request.env)
        # A pack without a virtualenv of its own runs in this host's Python,
        # the one chosen for the project, which is likelier to have
        # `pulumi_policy` than whatever python3 is first on PATH.
        fallback = sys.executable if is_policy_pack else "python3"
        try:
            interpreter = choose_interpreter(request.info, base_env, fallback)
        except HostError as problem:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(problem))

        program_dir = request.info.program_directory
        if is_policy_pack:
            args = ["-u", "-m", "pulumi.policy", *request.args, program_dir]
            cwd = program_dir
        else:
            if not (Path(program_dir) / "__main__.py").exists():
                context.abort(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    f"the Python plugin in {program_dir} has no __main__.py; this "
                    "language host only runs plugins that have one",
                )
            args = ["-u", program_dir, *request.args]
            cwd = request.pwd or program_dir

        if is_policy_pack:
            yield from self._run_policy_pack(interpreter, args, cwd, context)
        else:
            yield from self._run_plugin(interpreter, args, cwd, context)

    def _run_plugin(
        self, interpreter: Interpreter, args: list[str], cwd: str, context: Any
    ) -> Iterator[language_pb2.RunPluginResponse]:
        process = self._start_plugin(interpreter.python, args, interpreter.env, cwd)
        context.add_callback(lambda: stop_process(process))
        try:
            yield from OutputPump(process).messages()
            code = process.wait()
        finally:
            stop_process(process)
            self.children.finished(process)
        yield language_pb2.RunPluginResponse(exitcode=code)

    def _run_policy_pack(
        self, interpreter: Interpreter, args: list[str], cwd: str, context: Any
    ) -> Iterator[language_pb2.RunPluginResponse]:
        proxy = PolicyProxy()
        context.add_callback(proxy.stop)
        port = proxy.start()
        yield language_pb2.RunPluginResponse(stdout=f"{port}\n".encode())

        stack = proxy.wait_for_stack(context.is_active)
        if stack is None and not context.is_active():
            return
        env = {**stack_environment(stack), **interpreter.env}
        process = self._start_plugin(interpreter.python, args, env, cwd)
        context.add_callback(lambda: stop_process(process))
        try:
            pump = OutputPump(process, first_line=proxy.attach_from_port_line)
            yield from pump.messages()
            code = process.wait()
        finally:
            stop_process(process)
            self.children.finished(process)
            proxy.stop()
        yield language_pb2.RunPluginResponse(exitcode=code)

    def _start_plugin(
        self, python: str, args: list[str], env: Mapping[str, str], cwd: str
    ) -> subprocess.Popen[bytes]:
        return self.children.start(
            [python, *args],
            env=dict(env),
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def Cancel(self, request: Any, context: Any) -> empty_pb2.Empty:
        self.children.stop_all()
        return empty_pb2.Empty()


def plugin_environment(entries: Sequence[str]) -> dict[str, str]:
    """The environment the engine wants a plugin to have.

    The engine sends its whole environment with RunPlugin; older engines sent
    nothing, in which case this host's own environment stands in.
    """
    if not entries:
        return dict(os.environ)
    env: dict[str, str] = {}
    for entry in entries:
        name, _, value = entry.partition("=")
        env[name] = value
    return env


def stack_environment(stack: Any) -> dict[str, str]:
    """The variables through which `pulumi.policy` learns about the stack."""
    if stack is None:
        return {}
    candidates = {
        "PULUMI_ORGANIZATION": stack.organization,
        "PULUMI_PROJECT": stack.project,
        "PULUMI_STACK": stack.stack,
        "PULUMI_DRY_RUN": "true" if stack.dry_run else "false",
        "PULUMI_CONFIG": json.dumps(dict(stack.config)) if stack.config else "",
    }
    return {name: value for name, value in candidates.items() if value}


def sdk_version() -> str:
    """The installed Pulumi SDK's version, which this host reports as its own."""
    try:
        return metadata.version("pulumi")
    except metadata.PackageNotFoundError:
        return ""


def watch_engine(stopping: threading.Event) -> None:
    """Sets `stopping` once the engine that started this host has gone.

    The engine holds the write end of this process's stdin for as long as it
    runs and never writes to it, so end-of-file means the engine has exited,
    even if it was killed without a chance to stop its plugins.
    """
    try:
        if not stat.S_ISFIFO(os.fstat(0).st_mode):
            return
    except OSError:
        return

    def watch() -> None:
        while os.read(0, 4096):
            pass
        stopping.set()

    threading.Thread(target=watch, daemon=True).start()


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="pulumi-language-python",
        description="Serve the Pulumi LanguageRuntime service for Python.",
        allow_abbrev=False,
    )
    parser.add_argument("--tracing", help="tracing endpoint (accepted, unused)")
    parser.add_argument(
        "engine_address",
        nargs="?",
        help="address of the engine's gRPC server; without it, call Handshake",
    )
    # The engine may also pass logging flags such as `-v=9`, which this host
    # has no use for.
    namespace, _ = parser.parse_known_args(argv)
    return namespace


def main(argv: Sequence[str]) -> int:
    arguments = parse_arguments(argv)
    host = LanguageHost(arguments.engine_address)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=32),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(host, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()

    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda signum, frame: stopping.set())
    watch_engine(stopping)

    # The engine reads exactly one line from stdout, the port, before it
    # connects; everything after it is shown to the user.
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()

    # A plain wait() would not wake up for signals on every Python version.
    while not stopping.wait(timeout=1.0):
        pass
    host.children.stop_all()
    server.stop(grace=None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
