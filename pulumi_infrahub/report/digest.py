"""Read the digest that `pulumi preview --json` prints.

The digest is one JSON object with `steps`, `diagnostics` and a
`changeSummary`. It has no policy results and, unless the preview ran with
`--show-sames`, no steps for unchanged resources; the report says so when it
is the only input.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pulumi_infrahub.report.errors import ReportInputError
from pulumi_infrahub.report.model import (
    REPLACEMENT_HALVES,
    Diagnostic,
    Preview,
    ResourceStep,
    build_step,
    is_bookkeeping_type,
    split_urn,
)

__all__ = ["parse_digest", "read_digest"]


def read_digest(path: Path) -> Preview:
    """Read a `--json` digest file; raise `ReportInputError` if it is not one."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ReportInputError(
            f"Cannot read the preview JSON {path}: {error}. Pass the output of "
            "`pulumi preview --json`."
        ) from error
    return parse_digest(text, source=str(path))


def parse_digest(text: str, source: str = "preview JSON") -> Preview:
    """Build a `Preview` from the text of a `--json` digest."""
    digest = _decode(text, source)
    steps: list[ResourceStep] = []
    stack = project = ""
    stack_unchanged = False
    for raw in digest.get("steps") or []:
        op = str(raw.get("op", ""))
        urn = str(raw.get("urn", ""))
        urn_stack, urn_project, urn_type, _ = split_urn(urn)
        state = raw.get("newState") or raw.get("oldState") or {}
        resource_type = str(state.get("type") or urn_type)
        if urn_stack and not stack:
            stack, project = urn_stack, urn_project
        if is_bookkeeping_type(resource_type):
            stack_unchanged = stack_unchanged or (
                resource_type == "pulumi:pulumi:Stack" and op == "same"
            )
            continue
        if op in REPLACEMENT_HALVES:
            continue
        steps.append(_step(raw, op, urn, resource_type))

    listed_same = sum(1 for step in steps if step.op == "same")
    summary_same = int((digest.get("changeSummary") or {}).get("same", 0))
    # The engine's own count includes the stack; steps list it whatever the
    # flags, so it can be taken back out.
    unlisted = max(summary_same - listed_same - int(stack_unchanged), 0)
    return Preview(
        steps=tuple(steps),
        diagnostics=tuple(_diagnostics(digest)),
        finished=True,
        policies_known=False,
        unchanged_not_listed=unlisted,
        project=project,
        stack=stack,
    )


def _decode(text: str, source: str) -> Mapping[str, Any]:
    # Policy-pack installs can print lines before the JSON document starts.
    start = text.find("{")
    if start < 0:
        raise ReportInputError(
            f"{source} holds no JSON object. Pass the output of "
            "`pulumi preview --json`."
        )
    try:
        digest = json.loads(text[start:])
    except json.JSONDecodeError as error:
        raise ReportInputError(
            f"{source} is not valid JSON ({error.msg} at line {error.lineno}). Pass "
            "the output of `pulumi preview --json`, with stderr kept apart."
        ) from error
    if not isinstance(digest, dict) or "sequence" in digest:
        raise ReportInputError(
            f"{source} is not a `pulumi preview --json` digest. If it is an event "
            "log, pass it with --event-log instead."
        )
    return digest


def _step(
    raw: Mapping[str, Any], op: str, urn: str, resource_type: str
) -> ResourceStep:
    old, new = raw.get("oldState"), raw.get("newState")
    hidden = frozenset(
        str(key)
        for state in (old, new)
        if state
        for key in state.get("additionalSecretOutputs") or []
    )
    detailed = raw.get("detailedDiff")
    return build_step(
        op=op,
        urn=urn,
        resource_type=resource_type,
        old=old,
        new=new,
        detailed_diff=dict(detailed) if detailed is not None else None,
        diff_keys=[str(key) for key in raw.get("diffReasons") or []],
        replace_keys=[str(key) for key in raw.get("replaceReasons") or []],
        hidden=hidden,
    )


def _diagnostics(digest: Mapping[str, Any]) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for item in digest.get("diagnostics") or []:
        severity = str(item.get("severity", ""))
        # The digest glues the severity prefix onto the message.
        message = str(item.get("message", "")).strip()
        message = message.removeprefix(f"{severity}: ").strip()
        if severity in ("error", "warning") and message:
            found.append(Diagnostic(severity, message, str(item.get("urn", ""))))
    return found
