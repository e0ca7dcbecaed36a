"""Runs one Pulumi Python program on behalf of the language host.

`langhost.py` starts this script with the program's own Python (the project's
virtualenv) for every `Run` call of the engine. It connects the Pulumi SDK to
the engine's resource monitor, loads the stack config that the host put in
`PULUMI_CONFIG` and `PULUMI_CONFIG_SECRET_KEYS`, and runs the program's
`__main__.py` (or the file Pulumi.yaml's `main` names) as `__main__` inside
the SDK's stack resource.

Exit codes: 0 when the program finished; 32 when it failed and the error has
already been shown to the user through the engine, so the host tells the
engine to stop without adding a message of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import runpy
import sys
import traceback
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

EXIT_AFTER_REPORTED_ERROR = 32


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="run_program.py",
        description="Run a Pulumi Python program against a resource monitor.",
        allow_abbrev=False,
    )
    parser.add_argument("--monitor", required=True, help="resource monitor address")
    parser.add_argument("--engine", help="engine address, for logging")
    parser.add_argument("--project", help="project name")
    parser.add_argument("--stack", help="stack name")
    parser.add_argument("--organization", help="organization name")
    parser.add_argument("--root-directory", help="folder holding Pulumi.yaml")
    parser.add_argument("--pwd", help="working directory for the program")
    parser.add_argument(
        "--parallel", type=int, default=0, help="resource operations at once"
    )
    parser.add_argument(
        "--dry-run", choices=("true", "false"), default="false", help="preview only"
    )
    parser.add_argument("program", help="program folder or file")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="program arguments")
    return parser.parse_args(argv)


def program_folder(program: Path) -> Path:
    return program if program.is_dir() else program.parent


def user_traceback(error: BaseException, program: Path) -> str:
    """Formats `error` from the first frame that lies in the user's program.

    Frames of this runner, `runpy` and the SDK above the program tell the user
    nothing; when no frame is in the program, the whole traceback is kept.
    """
    folder = program_folder(program).resolve()
    frames = traceback.extract_tb(error.__traceback__)
    for index, frame in enumerate(frames):
        # Frozen modules have names like "<frozen runpy>", not paths.
        filename = Path(frame.filename)
        if filename.is_absolute() and filename.resolve().is_relative_to(folder):
            limit = -(len(frames) - index)
            return "".join(traceback.format_exception(error, limit=limit))
    return "".join(traceback.format_exception(error))


def main(argv: Sequence[str]) -> int:
    arguments = parse_arguments(argv)
    # Python put this script's folder first on sys.path; the program should
    # not be able to import the host's modules by accident.
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [entry for entry in sys.path if entry != here]
    try:
        import pulumi
        import pulumi.runtime
    except ImportError as missing:
        sys.stderr.write(
            f"The Python at {sys.executable} cannot import the Pulumi SDK "
            f"({missing}). Install the program's dependencies into it, for "
            f"example `{sys.executable} -m pip install pulumi`.\n"
        )
        return EXIT_AFTER_REPORTED_ERROR

    pulumi.runtime.set_all_config(
        pulumi.runtime.get_config_env(), pulumi.runtime.get_config_secret_keys_env()
    )
    parallel = arguments.parallel
    settings = pulumi.runtime.Settings(
        project=arguments.project,
        stack=arguments.stack,
        monitor=arguments.monitor,
        engine=arguments.engine,
        parallel=parallel,
        dry_run=arguments.dry_run == "true",
        organization=arguments.organization,
        root_directory=arguments.root_directory,
    )
    pulumi.runtime.configure(settings)

    program = Path(arguments.program).absolute()
    if program.is_dir() and not (program / "__main__.py").exists():
        pulumi.log.error(
            f"No __main__.py in {program}: a Python program folder needs one, "
            "or Pulumi.yaml's `main` must name the program's file."
        )
        return EXIT_AFTER_REPORTED_ERROR

    if arguments.pwd:
        os.chdir(arguments.pwd)
    sys.argv = [str(program), *arguments.args]

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # Every resource registration waits on a thread of the default executor,
    # so the pool must be wider than the engine's parallelism or the program
    # itself becomes the bottleneck.
    executor = ThreadPoolExecutor(max_workers=max(parallel, 1) * 4)
    loop.set_default_executor(executor)
    # A failing program leaves futures nobody awaits; asyncio would print a
    # warning for each, burying the one error that matters.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)

    def run() -> None:
        runpy.run_path(str(program), run_name="__main__")

    try:
        loop.run_until_complete(pulumi.runtime.run_in_stack(run))
    except pulumi.RunError as error:
        pulumi.log.error(str(error))
        return EXIT_AFTER_REPORTED_ERROR
    except Exception as error:
        pulumi.log.error(
            "Program failed with an unhandled exception:\n"
            + user_traceback(error, program)
        )
        return EXIT_AFTER_REPORTED_ERROR
    finally:
        executor.shutdown(wait=True)
        loop.close()
        sys.stdout.flush()
        sys.stderr.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
