"""The `pulumi-infrahub` command line.

Each subcommand lives in a module with `add_parser(subparsers)`, which
registers its options, and `run(args) -> int`, which does the work and returns
the exit status. Adding a subcommand means adding its module to `_COMMANDS`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from types import ModuleType

from pulumi_infrahub import provider_server
from pulumi_infrahub.emulator import command as emulator_command
from pulumi_infrahub.report import command as report_command

_COMMANDS: tuple[ModuleType, ...] = (
    emulator_command,
    report_command,
    provider_server,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pulumi-infrahub",
        description="Tools for Hyperstack infrastructure managed with Pulumi.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in _COMMANDS:
        module.add_parser(subparsers).set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
