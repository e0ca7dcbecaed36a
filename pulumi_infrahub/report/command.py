"""The `pulumi-infrahub preview-report` command.

    pulumi preview --event-log events.jsonl
    pulumi-infrahub preview-report --event-log events.jsonl > report.md

Exit status: 0 when the preview succeeded with no mandatory policy violation,
1 when it failed or a mandatory policy was violated (the report is written
either way), 2 when an input cannot be read or the report cannot be written.
The size of the report never changes the status.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pulumi_infrahub.client import InfrahubClient, RetryPolicy
from pulumi_infrahub.client.errors import ConfigurationError, InfrahubError
from pulumi_infrahub.report import (
    DEFAULT_MAX_CHARS,
    Pricebook,
    ReportInputError,
    exit_status,
    gpu_bill,
    load_preview,
    render_report,
)

__all__ = ["add_parser", "run"]

# A report must not hold a pull request up for long: two tries, then the
# report goes out without prices and says why.
_PRICEBOOK_RETRY = RetryPolicy(attempts=2)

_EXIT_CANNOT_REPORT = 2


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `preview-report` on the CLI's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "preview-report",
        help="turn a `pulumi preview` into a pull-request comment",
        description=(
            "Summarise what `pulumi preview` wrote: counts, changed properties, "
            "policy results and the GPU bill of the change. Exits 1 when the "
            "preview failed or a mandatory policy was violated."
        ),
    )
    source = parser.add_argument_group("input (at least one)")
    source.add_argument(
        "--event-log",
        type=Path,
        metavar="FILE",
        help="the file written by `pulumi preview --event-log FILE` (preferred: "
        "it carries policy results and unchanged resources)",
    )
    source.add_argument(
        "--json",
        type=Path,
        dest="json_output",
        metavar="FILE",
        help="the output of `pulumi preview --json` (read only without --event-log)",
    )
    parser.add_argument(
        "--format",
        choices=("markdown", "text"),
        default="markdown",
        help="markdown for pull requests (default), text for terminals",
    )
    parser.add_argument(
        "--output",
        "-o",
        type=Path,
        metavar="FILE",
        help="write the report here instead of standard output",
    )
    parser.add_argument(
        "--max-chars",
        type=int,
        default=DEFAULT_MAX_CHARS,
        metavar="N",
        help=f"cut details to stay under N characters (default {DEFAULT_MAX_CHARS:,}; "
        "0 for no limit)",
    )
    prices = parser.add_mutually_exclusive_group()
    prices.add_argument(
        "--pricebook",
        type=Path,
        metavar="FILE",
        help="read prices from a saved `GET /pricebook` answer instead of the API",
    )
    prices.add_argument(
        "--no-prices",
        action="store_true",
        help="leave hourly prices out of the GPU bill",
    )
    parser.add_argument(
        "--api-url",
        metavar="URL",
        help="Infrahub API to read the pricebook from (default: INFRAHUB_API_URL "
        "or the public API); the key comes from INFRAHUB_API_KEY",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Write the report; return the exit status."""
    if args.event_log is None and args.json_output is None:
        print(
            "preview-report: pass --event-log FILE (from `pulumi preview "
            "--event-log FILE`) or --json FILE (from `pulumi preview --json`).",
            file=sys.stderr,
        )
        return _EXIT_CANNOT_REPORT
    if args.max_chars < 0:
        print("preview-report: --max-chars must be 0 or more.", file=sys.stderr)
        return _EXIT_CANNOT_REPORT

    try:
        preview = load_preview(event_log=args.event_log, json_output=args.json_output)
        pricebook, prices_error = _pricebook(args)
    except ReportInputError as error:
        print(f"preview-report: {error}", file=sys.stderr)
        return _EXIT_CANNOT_REPORT
    if prices_error and not args.no_prices:
        print(
            f"preview-report: no prices in the GPU bill: {prices_error}.",
            file=sys.stderr,
        )

    bill = gpu_bill(preview, pricebook, prices_error)
    text = render_report(preview, bill, fmt=args.format, max_chars=args.max_chars)
    if args.output is None:
        sys.stdout.write(text)
        return exit_status(preview)
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as error:
        print(f"preview-report: cannot write {args.output}: {error}.", file=sys.stderr)
        return _EXIT_CANNOT_REPORT
    return exit_status(preview)


def _pricebook(args: argparse.Namespace) -> tuple[Pricebook | None, str]:
    if args.no_prices:
        return None, "prices were turned off with --no-prices"
    if args.pricebook is not None:
        return _read_pricebook(args.pricebook), ""
    try:
        with InfrahubClient(base_url=args.api_url, retry=_PRICEBOOK_RETRY) as client:
            entries = client.pricebook.get_all()
    except ConfigurationError as error:
        return None, str(error).rstrip(".")
    except InfrahubError as error:
        return None, f"the pricebook could not be fetched ({error})".rstrip(".")
    return Pricebook.from_entries(entry.model_dump() for entry in entries), ""


def _read_pricebook(path: Path) -> Pricebook:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReportInputError(
            f"Cannot read the pricebook {path}: {error}. Pass a file holding the "
            "JSON list that `GET /pricebook` answers."
        ) from error
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ReportInputError(
            f"The pricebook {path} is not a JSON list of objects; pass the list "
            "that `GET /pricebook` answers."
        )
    return Pricebook.from_entries(entries)
