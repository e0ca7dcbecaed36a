"""Read the engine event log that `pulumi preview --event-log FILE` writes.

The log holds one JSON engine event per line. Each event has a sequence
number, a timestamp and exactly one payload key: `resourcePreEvent` for every
planned step (unchanged resources included), `policyEvent` for each policy
violation, `diagnosticEvent`, `resOpFailedEvent`, and at the end a
`summaryEvent` with the engine's verdict. Unlike `--json` output it carries
policy results, so it is the report's main input.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from pulumi_infrahub.report.errors import ReportInputError
from pulumi_infrahub.report.model import (
    REPLACEMENT_HALVES,
    Diagnostic,
    PolicyResult,
    Preview,
    ResourceStep,
    build_step,
    is_bookkeeping_type,
    split_urn,
)

__all__ = ["parse_event_log", "read_event_log"]

# Colour directives survive in messages unless the CLI ran with colour off.
_COLOR_DIRECTIVE = re.compile(r"<\{%[^%]*%\}>")

_REPORTED_SEVERITIES = frozenset({"error", "warning"})


def read_event_log(path: Path) -> Preview:
    """Read an event log file; raise `ReportInputError` if it is not one."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ReportInputError(
            f"Cannot read the event log {path}: {error}. Pass the file that "
            "`pulumi preview --event-log FILE` wrote."
        ) from error
    return parse_event_log(text.splitlines(), source=str(path))


def parse_event_log(lines: Iterable[str], source: str = "event log") -> Preview:
    """Build a `Preview` from the lines of an event log."""
    events = _decode(list(lines), source)
    collector = _Collector()
    for event in events:
        collector.add(event)
    return collector.preview(finished=collector.summary is not None)


def _decode(lines: list[str], source: str) -> list[Mapping[str, Any]]:
    numbered = [(number, line) for number, line in enumerate(lines, 1) if line.strip()]
    events: list[Mapping[str, Any]] = []
    for position, (number, line) in enumerate(numbered):
        try:
            event = json.loads(line)
        except json.JSONDecodeError as error:
            if events and position == len(numbered) - 1:
                # A CLI killed mid-write leaves half a line; what came before
                # still describes the preview, which the missing summary marks
                # as unfinished.
                break
            raise ReportInputError(
                f"Line {number} of {source} is not JSON ({error.msg}). Pass the "
                "file that `pulumi preview --event-log FILE` wrote, not its "
                "terminal output."
            ) from error
        if not isinstance(event, dict):
            raise ReportInputError(
                f"Line {number} of {source} is not an engine event object. Pass "
                "the file that `pulumi preview --event-log FILE` wrote."
            )
        events.append(event)
    if numbered and not any("sequence" in event for event in events):
        raise ReportInputError(
            f"{source} holds JSON but no engine events. If it is `pulumi preview "
            "--json` output, pass it with --json instead."
        )
    return events


class _Collector:
    """Accumulates events in log order."""

    def __init__(self) -> None:
        self.steps: dict[str, ResourceStep] = {}
        self.failed_urns: set[str] = set()
        self.policies: list[PolicyResult] = []
        self.diagnostics: list[Diagnostic] = []
        self.summary: Mapping[str, Any] | None = None
        self.canceled = False
        self.stack = ""
        self.project = ""

    def add(self, event: Mapping[str, Any]) -> None:
        if (payload := event.get("resourcePreEvent")) is not None:
            self._step(payload.get("metadata") or {})
        elif (payload := event.get("resOpFailedEvent")) is not None:
            self.failed_urns.add(str((payload.get("metadata") or {}).get("urn", "")))
        elif (payload := event.get("policyEvent")) is not None:
            self.policies.append(_policy(payload))
        elif (payload := event.get("diagnosticEvent")) is not None:
            self._diagnostic(payload)
        elif (payload := event.get("summaryEvent")) is not None:
            self.summary = payload
        elif event.get("cancelEvent") is not None:
            self.canceled = True

    def preview(self, *, finished: bool) -> Preview:
        summary = self.summary or {}
        steps = tuple(
            replace(step, failed=True) if step.urn in self.failed_urns else step
            for step in self.steps.values()
        )
        result = str(summary.get("result") or "")
        if self.canceled and not result:
            result = "canceled"
        return Preview(
            steps=steps,
            policies=tuple(self.policies),
            policy_packs=_pack_versions(summary.get("PolicyPacks") or {}),
            diagnostics=tuple(self.diagnostics),
            result=result,
            finished=finished,
            project=self.project,
            stack=self.stack,
        )

    def _step(self, metadata: Mapping[str, Any]) -> None:
        op = str(metadata.get("op", ""))
        urn = str(metadata.get("urn", ""))
        stack, project, urn_type, _ = split_urn(urn)
        resource_type = str(metadata.get("type") or urn_type)
        if stack and not self.stack:
            self.stack, self.project = stack, project
        if op in REPLACEMENT_HALVES or is_bookkeeping_type(resource_type):
            return
        detailed = metadata.get("detailedDiff")
        self.steps[urn] = build_step(
            op=op,
            urn=urn,
            resource_type=resource_type,
            old=metadata.get("old"),
            new=metadata.get("new"),
            detailed_diff=_detailed(detailed) if detailed is not None else None,
            diff_keys=[str(key) for key in metadata.get("diffs") or []],
            replace_keys=[str(key) for key in metadata.get("keys") or []],
        )

    def _diagnostic(self, payload: Mapping[str, Any]) -> None:
        severity = str(payload.get("severity", ""))
        if severity not in _REPORTED_SEVERITIES or payload.get("ephemeral"):
            return
        message = _COLOR_DIRECTIVE.sub("", str(payload.get("message", ""))).strip()
        if message:
            self.diagnostics.append(
                Diagnostic(severity, message, str(payload.get("urn", "")))
            )


def _detailed(raw: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    # Event logs spell the kind `diffKind`; the shared model uses `kind`.
    return {
        path: {
            "kind": diff.get("diffKind", "update"),
            "inputDiff": diff.get("inputDiff", True),
        }
        for path, diff in raw.items()
    }


def _pack_versions(packs: Mapping[str, Any]) -> dict[str, str]:
    # Local packs are keyed `name|local|/path/on/the/runner`; the path means
    # nothing to a reviewer.
    return {str(key).split("|", 1)[0]: str(version) for key, version in packs.items()}


def _policy(payload: Mapping[str, Any]) -> PolicyResult:
    return PolicyResult(
        pack=str(payload.get("policyPackName", "")),
        pack_version=str(payload.get("policyPackVersion", "")),
        policy=str(payload.get("policyName", "")),
        level=str(payload.get("enforcementLevel", "")) or "advisory",
        urn=str(payload.get("resourceUrn", "")),
        message=_COLOR_DIRECTIVE.sub("", str(payload.get("message", ""))).strip(),
    )
