"""The dynamic-provider server with room for a fleet: more than four calls at
once.

Pulumi runs every Python dynamic resource of a stack in one provider process,
and the SDK's server (`python -m pulumi.dynamic`) handles at most four calls
at a time. Our `create` returns only once the object is usable, so a VM's
create holds a call for the whole boot: with the stock server, a fleet of N
VMs boots four at a time and `pulumi up` takes about N / 4 boots. Worse, the
engine's `check` and `diff` calls queue behind those creates, so registration
of every other resource stalls too.

    python -m pulumi_infrahub.provider_server

starts the same SDK server with a pool of `PULUMI_INFRAHUB_PROVIDER_THREADS`
threads (64 by default). The engine cannot start it by itself: a project
points a `plugins:` entry of its Pulumi.yaml at a folder holding a
`pulumi-resource-pulumi-python` launcher, which `pulumi-infrahub
provider-plugin DIR` writes:

    plugins:
      providers:
        - name: pulumi-python
          path: DIR

Why one wide process and not several provider processes ("shards", explicit
`pulumi:providers:pulumi-python` resources, each with its own pool of four):
measured on the 32-VM fleet, both reach the same overlap of boots, but the
shards cost about 70 MB of memory each, split the API's rate limit between
processes that cannot see each other's requests, take the stack config away
from `configure()` (shards receive only their own properties) and show up as
extra resources in every preview. The wide pool costs a few MB of thread
stacks and keeps one client, one rate limiter and one shared poller per
stack. `bench/concurrency.py` repeats the measurement.

How it widens the pool: the SDK module builds its server with
`grpc.server(ThreadPoolExecutor(max_workers=4), ...)` when it is run as
`__main__`. This launcher replaces `grpc.server` with a wrapper that swaps in
a wider executor, then runs the SDK module as `__main__`. Everything else
(the servicer, pickled providers, configuration) is the SDK's own. Should a
later SDK build its server another way, the wrapper is never called and the
launcher says so on stderr, which the engine shows; the provider then still
works, four calls at a time.
"""

from __future__ import annotations

import argparse
import importlib
import os
import runpy
import stat
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_THREADS",
    "PLUGIN_EXECUTABLE",
    "THREADS_VARIABLE",
    "add_parser",
    "main",
    "run",
    "thread_count",
    "widen_grpc_server",
    "write_plugin",
]

THREADS_VARIABLE = "PULUMI_INFRAHUB_PROVIDER_THREADS"

# Boot waits and HTTP calls release the GIL, and an idle thread costs a stack
# only: 64 lets a fleet of 60 VMs boot at once and still leaves threads for
# the engine's check and diff calls. The engine's own step limit (`--parallel`)
# is the other ceiling.
DEFAULT_THREADS = 64
MAX_THREADS = 1024

PLUGIN_EXECUTABLE = "pulumi-resource-pulumi-python"
"""The executable the engine looks for in a provider plugin folder for the
package of Python dynamic resources."""

# How long after start-up the SDK must have built its server; past this the
# launcher reports that the pool could not be widened.
_SERVER_BUILT_WITHIN = 60.0

_SDK_SERVER_MODULE = "pulumi.dynamic"


def thread_count(environ: dict[str, str] | None = None) -> int:
    """The pool size `PULUMI_INFRAHUB_PROVIDER_THREADS` asks for, or the
    default; raises ValueError with the fix when the value is not usable."""
    env = os.environ if environ is None else environ
    raw = env.get(THREADS_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_THREADS
    try:
        threads = int(raw)
    except ValueError:
        threads = 0
    if not 1 <= threads <= MAX_THREADS:
        raise ValueError(
            f"{THREADS_VARIABLE} is {raw!r}; set it to a whole number from 1 to "
            f"{MAX_THREADS}, or unset it for {DEFAULT_THREADS}."
        )
    return threads


def widen_grpc_server(grpc_module: Any, threads: int) -> threading.Event:
    """Make `grpc_module.server(pool, ...)` build its server on a pool of
    `threads` workers, whatever pool it is given. Returns an event set once
    a server was built that way."""
    original: Callable[..., Any] = grpc_module.server
    widened = threading.Event()

    def server(thread_pool: Any = None, *args: Any, **kwargs: Any) -> Any:
        if isinstance(thread_pool, ThreadPoolExecutor):
            thread_pool.shutdown(wait=False)
            thread_pool = ThreadPoolExecutor(
                max_workers=threads, thread_name_prefix="infrahub-provider"
            )
            widened.set()
        return original(thread_pool, *args, **kwargs)

    grpc_module.server = server
    return widened


def _report_if_not_widened(widened: threading.Event, threads: int) -> None:
    def watch() -> None:
        if not widened.wait(_SERVER_BUILT_WITHIN):
            print(
                "pulumi_infrahub.provider_server: the Pulumi SDK did not build "
                "its provider server through grpc.server(ThreadPoolExecutor), so "
                f"the pool of {threads} threads is not in use and the provider "
                "serves four calls at a time. Pin pulumi to a version this "
                "launcher supports, or remove the pulumi-python plugin entry "
                "from Pulumi.yaml.",
                file=sys.stderr,
                flush=True,
            )

    threading.Thread(target=watch, name="pool-check", daemon=True).start()


def main() -> None:
    """Serve the SDK's dynamic provider on a wide pool; never returns."""
    try:
        threads = thread_count()
    except ValueError as problem:
        print(f"pulumi_infrahub.provider_server: {problem}", file=sys.stderr)
        raise SystemExit(2) from None

    # Imported here, after the settings are known good; grpc ships no types.
    grpc: Any = importlib.import_module("grpc")
    widened = widen_grpc_server(grpc, threads)
    _report_if_not_widened(widened, threads)
    runpy.run_module(_SDK_SERVER_MODULE, run_name="__main__", alter_sys=True)


# -- the plugin folder ---------------------------------------------------------

# The launcher the engine starts. It picks the interpreter the way Pulumi's
# own launcher for dynamic providers does (the project's virtualenv, then
# PULUMI_PYTHON_CMD, then python3), because that interpreter must be able to
# import the program's modules to unpickle its providers.
_LAUNCHER = r"""#!/bin/sh
# Written by `pulumi-infrahub provider-plugin`. Starts the Python dynamic
# provider server of pulumi-infrahub, which serves many calls at once instead
# of the Pulumi SDK's four (PULUMI_INFRAHUB_PROVIDER_THREADS, default 64).
# Pulumi.yaml points at this folder:
#   plugins:
#     providers:
#       - name: pulumi-python
#         path: <this folder, relative to Pulumi.yaml>
set -eu

venv=${PULUMI_RUNTIME_VIRTUALENV:-}
if [ -z "$venv" ] && [ "${PULUMI_RUNTIME_TOOLCHAIN:-}" = uv ]; then
  venv=.venv
fi

if [ -n "$venv" ]; then
  venv=${venv%/}
  case $venv in
    /*) ;;
    *)
      # Relative to the program's folder, where the engine starts plugins, or
      # else to the project root above it (Pulumi.yaml with `main: dir`).
      dir=$PWD
      while [ ! -x "$dir/$venv/bin/python" ] && [ ! -f "$dir/Pulumi.yaml" ] &&
        [ "$dir" != / ]; do
        dir=$(dirname "$dir")
      done
      venv=$dir/$venv
      ;;
  esac
  if [ ! -x "$venv/bin/python" ]; then
    echo "The virtualenv $venv named in Pulumi.yaml has no bin/python; create" \
      "it and install the program's dependencies (pulumi-infrahub among them)." >&2
    exit 1
  fi
  PATH=$venv/bin:$PATH
  export PATH
  unset PYTHONHOME
  python=$venv/bin/python
else
  python=${PULUMI_PYTHON_CMD:-python3}
fi

exec "$python" -u -m pulumi_infrahub.provider_server "$@"
"""


def write_plugin(folder: Path) -> Path:
    """Write the launcher into `folder` (made if missing); return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PLUGIN_EXECUTABLE
    path.write_text(_LAUNCHER)
    mode = path.stat().st_mode
    path.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `provider-plugin` on the CLI's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "provider-plugin",
        help="write the plugin folder that serves dynamic resources many at once",
        description=(
            "Write a folder holding a pulumi-resource-pulumi-python launcher that "
            "serves this project's dynamic resources many calls at once (the "
            "Pulumi SDK's own server takes four), and print the Pulumi.yaml "
            "entry that points the engine at it."
        ),
    )
    parser.add_argument(
        "folder",
        type=Path,
        nargs="?",
        default=Path("infrahub-provider"),
        help="where to write it, relative to Pulumi.yaml (default: %(default)s)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    folder: Path = args.folder
    try:
        path = write_plugin(folder)
    except OSError as problem:
        print(f"pulumi-infrahub provider-plugin: {problem}", file=sys.stderr)
        return 1
    print(f"Wrote {path}. Add to Pulumi.yaml (path relative to that file):\n")
    print(
        "plugins:\n  providers:\n    - name: pulumi-python\n"
        f"      path: {folder.as_posix()}\n"
    )
    print(
        "and run with more steps at once than the CLI's default (4 per CPU), "
        "e.g. `pulumi up --parallel 128` or PULUMI_PARALLEL=128."
    )
    return 0


if __name__ == "__main__":
    # The engine passes its own arguments (its address, log flags); the SDK
    # server reads what it needs of them.
    main()
