"""Turn what `pulumi preview` wrote into a report for a pull request.

    preview = load_preview(event_log=Path("events.jsonl"))
    bill = gpu_bill(preview, Pricebook.from_entries(entries))
    print(render_report(preview, bill, fmt="markdown"))

`exit_status(preview)` is what the `preview-report` command exits with.
"""

from __future__ import annotations

from pathlib import Path

from pulumi_infrahub.report.bill import VM_TYPE, Fleet, GpuBill, Pricebook, gpu_bill
from pulumi_infrahub.report.digest import parse_digest, read_digest
from pulumi_infrahub.report.errors import ReportInputError
from pulumi_infrahub.report.events import parse_event_log, read_event_log
from pulumi_infrahub.report.model import (
    Diagnostic,
    PolicyResult,
    Preview,
    PropertyChange,
    ResourceState,
    ResourceStep,
)
from pulumi_infrahub.report.render import DEFAULT_MAX_CHARS, MARKER, render_report

__all__ = [
    "DEFAULT_MAX_CHARS",
    "MARKER",
    "VM_TYPE",
    "Diagnostic",
    "Fleet",
    "GpuBill",
    "PolicyResult",
    "Preview",
    "Pricebook",
    "PropertyChange",
    "ReportInputError",
    "ResourceState",
    "ResourceStep",
    "exit_status",
    "gpu_bill",
    "load_preview",
    "parse_digest",
    "parse_event_log",
    "read_digest",
    "read_event_log",
    "render_report",
]


def load_preview(
    *, event_log: Path | None = None, json_output: Path | None = None
) -> Preview:
    """Read a preview from its event log, its `--json` digest, or both.

    The event log is complete (policy results, unchanged resources), so when
    both are given it is the one read; the digest alone gives a report
    without policy results.
    """
    if event_log is not None:
        return read_event_log(event_log)
    if json_output is not None:
        return read_digest(json_output)
    raise ReportInputError(
        "No preview to report on: pass --event-log FILE (from `pulumi preview "
        "--event-log FILE`) or --json FILE (from `pulumi preview --json`)."
    )


def exit_status(preview: Preview) -> int:
    """1 if the preview failed or a mandatory policy was violated, else 0."""
    return 1 if preview.failed or preview.mandatory_violations else 0
