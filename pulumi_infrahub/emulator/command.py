"""The `pulumi-infrahub emulator` command.

    pulumi-infrahub emulator --port 0

The first line written to standard output is the base URL the emulator
serves (for example `http://127.0.0.1:43117/v1`), printed once the socket
listens, so that scripts can read it; what follows is for people.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pulumi_infrahub.emulator.app import create_app
from pulumi_infrahub.emulator.faults import Faults
from pulumi_infrahub.emulator.server import base_url, bind, make_server
from pulumi_infrahub.emulator.settings import (
    DEFAULT_RATE_LIMIT,
    DEMO_API_KEY,
    DEMO_DELAYS,
    DEMO_ENVIRONMENT,
    DEMO_KEYPAIR,
    DEMO_REGION,
    Delays,
    EmulatorSettings,
)

__all__ = ["add_parser", "run"]

DEFAULT_PORT = 8080
KEYS_ENVIRONMENT_VARIABLE = "INFRAHUB_EMULATOR_API_KEYS"

_FAULT_OPTIONS = {
    "latency_ms": ("MS", "milliseconds added before each API answer"),
    "latency_jitter_ms": ("MS", "up to this many milliseconds more, random per answer"),
    "error_rate": ("SHARE", "share of API requests answered 5xx, from 0 to 1"),
    "error_status": ("STATUS", "the 5xx status those answers carry (default 500)"),
    "rate_limit_burst": ("N", "answer the next N API requests with 429"),
    "drop_after_create": ("N", "commit the next N creates, then drop the connection"),
    "vm_error_pattern": ("GLOB", "VMs whose name matches end in ERROR"),
    "vm_error_reason": ("TEXT", "the reason their events give"),
    "vm_stuck_pattern": ("GLOB", "VMs whose name matches stay CREATING"),
}


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port (0 to 65535)")
    return port


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `emulator` on the CLI's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "emulator",
        help="serve a local emulator of the Infrahub API",
        description=(
            "Serve a local emulator of the Infrahub API. The first line of "
            "output is its base URL; point INFRAHUB_API_URL at it. Without "
            f"--api-key it accepts the demo key {DEMO_API_KEY}."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"default: {DEFAULT_PORT}; 0 picks a free port",
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        metavar="FILE",
        help="keep the cloud in this JSON file, so it survives a restart",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        help="accept this key as a tenant of its own (repeatable); also read, "
        f"comma-separated, from {KEYS_ENVIRONMENT_VARIABLE}",
    )
    parser.add_argument(
        "--rate-limit",
        type=_count,
        default=DEFAULT_RATE_LIMIT,
        metavar="N",
        help=f"requests a minute per address (default {DEFAULT_RATE_LIMIT}, as "
        "the real API); 0 turns the limit off",
    )
    parser.add_argument("--seed", type=int, help="seed for the random faults")
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=("critical", "error", "warning", "info", "debug"),
        help="server log level; info logs every request",
    )

    delays = parser.add_argument_group(
        "delays", "seconds each transition takes (defaults are short demo values)"
    )
    delays.add_argument(
        "--no-delays", action="store_true", help="settle every transition at once"
    )
    for spec in dataclasses.fields(Delays):
        default = getattr(DEMO_DELAYS, spec.name)
        delays.add_argument(
            f"--{spec.name.replace('_', '-')}-delay",
            dest=f"delay_{spec.name}",
            type=float,
            metavar="SECONDS",
            help=f"default {default:g}",
        )

    faults = parser.add_argument_group("faults", "start with these faults in force")
    for name, field in Faults.model_fields.items():
        kind: Callable[[str], Any] = str
        if field.annotation is int:
            kind = int
        elif field.annotation is float:
            kind = float
        faults.add_argument(
            f"--{name.replace('_', '-')}",
            dest=f"fault_{name}",
            metavar=_FAULT_OPTIONS[name][0],
            type=kind,
            help=_FAULT_OPTIONS[name][1],
        )
    return parser


def settings_from(args: argparse.Namespace) -> EmulatorSettings:
    """The settings the command line and the environment ask for."""
    keys = list(args.api_key)
    from_environment = os.environ.get(KEYS_ENVIRONMENT_VARIABLE, "")
    keys += [key.strip() for key in from_environment.split(",") if key.strip()]

    base = Delays() if args.no_delays else DEMO_DELAYS
    delay_overrides = {
        spec.name: getattr(args, f"delay_{spec.name}")
        for spec in dataclasses.fields(Delays)
        if getattr(args, f"delay_{spec.name}") is not None
    }
    for name, value in delay_overrides.items():
        if value < 0:
            raise ValueError(f"--{name.replace('_', '-')}-delay must not be negative.")
    fault_values = {
        name: getattr(args, f"fault_{name}")
        for name in Faults.model_fields
        if getattr(args, f"fault_{name}") is not None
    }
    return EmulatorSettings(
        api_keys=tuple(dict.fromkeys(keys)),
        delays=dataclasses.replace(base, **delay_overrides),
        faults=Faults(**fault_values),
        rate_limit=args.rate_limit,
        state_file=args.state_file,
        random_seed=args.seed,
    )


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(args)
        app = create_app(settings)
        sock = bind(args.host, args.port)
    except (ValueError, OSError) as error:
        print(f"pulumi-infrahub emulator: {error}", file=sys.stderr)
        return 2

    print(base_url(sock), flush=True)
    if not args.api_key and not os.environ.get(KEYS_ENVIRONMENT_VARIABLE):
        print(
            f"Accepting the demo API key {DEMO_API_KEY}; its tenant starts with "
            f"environment {DEMO_ENVIRONMENT} ({DEMO_REGION}) and keypair "
            f"{DEMO_KEYPAIR}.",
            flush=True,
        )
    else:
        print(f"Accepting {len(settings.api_keys)} API key(s).", flush=True)
    if settings.state_file is not None:
        print(f"State is kept in {settings.state_file}.", flush=True)
    print("Admin endpoints under /_emulator/. Stop with Ctrl+C.", flush=True)

    make_server(app, log_level=args.log_level).run(sockets=[sock])
    return 0
