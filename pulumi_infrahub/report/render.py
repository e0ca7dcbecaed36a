"""Lay out a preview as a report that fits in a pull-request comment.

The report reads top-down in the order a reviewer decides: status and counts,
errors, policy results, the GPU bill, then each changed resource. Hosts cut
comments at 65,536 characters, so the report is built under a budget: the
head, errors, policy results and bill stay (errors and policy results are
shortened only when they alone pass the limit); resource details are kept in
order of importance (replacements, deletions, updates, creations) while they
fit, the rest are listed by name while that fits, and a closing note says
what was left out.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pulumi_infrahub.report.bill import Fleet, GpuBill
from pulumi_infrahub.report.document import (
    Block,
    BulletList,
    Code,
    Heading,
    Hidden,
    Line,
    Paragraph,
    Strong,
    Table,
    render_block,
    render_blocks,
)
from pulumi_infrahub.report.model import (
    LEVEL_ORDER,
    Diagnostic,
    PolicyResult,
    Preview,
    PropertyChange,
    ResourceStep,
    short_type,
    split_urn,
)
from pulumi_infrahub.report.values import MISSING, format_value

__all__ = ["DEFAULT_MAX_CHARS", "MARKER", "render_report"]

DEFAULT_MAX_CHARS = 65_000

# The hidden first line of every Markdown report; CI finds its earlier comment
# by it and edits that comment instead of adding another.
MARKER = "pulumi-infrahub preview-report"

# Room kept for the closing note about what was left out.
_NOTE_RESERVE = 600

_OP_ORDER = ("replace", "delete", "update", "create", "import", "read")
_OP_WORDS = {
    "create": "to create",
    "update": "to update",
    "replace": "to replace",
    "delete": "to delete",
    "same": "unchanged",
}
_STACK_TYPE = "pulumi:pulumi:Stack"
_MESSAGE_LIMIT = 600
_ERROR_LIMIT = 1_000
_ERRORS_KEPT_WHEN_SHORT = 5


@dataclass(frozen=True)
class _Cut:
    """What the budget left out, for the closing note."""

    detailed: Counter[str]
    unlisted: int
    policies: int
    errors: int
    warnings: int


def render_report(
    preview: Preview,
    bill: GpuBill,
    *,
    fmt: str = "markdown",
    max_chars: int = DEFAULT_MAX_CHARS,
) -> str:
    """The report as `markdown` or `text`, at most `max_chars` long (0: no limit)."""
    limit = max_chars if max_chars > 0 else sys.maxsize
    layout = _Layout(preview, bill, fmt)
    return layout.fit(limit)


class _Layout:
    def __init__(self, preview: Preview, bill: GpuBill, fmt: str) -> None:
        self.preview = preview
        self.fmt = fmt
        self.head = _head(preview)
        self.errors = _errors(preview)
        self.policies = sorted(preview.policies, key=_policy_order)
        self.bill = _bill(bill)
        self.changed = _ordered(preview.changed_steps)
        self.warnings = [d for d in preview.diagnostics if d.severity == "warning"]

    def size(self, blocks: Sequence[Block]) -> int:
        return sum(len(render_block(block, self.fmt)) + 2 for block in blocks)

    def essentials(self, errors: int, policies: int) -> list[Block]:
        return [
            *self.head,
            *_errors_section(self.errors, errors),
            *_policy_section(self.preview, self.policies, policies),
            *self.bill,
        ]

    def fit(self, limit: int) -> str:
        errors, policies = self._fit_essentials(limit)
        blocks = self.essentials(errors, policies)
        room = limit - _NOTE_RESERVE - self.size(blocks)

        details: list[Block] = [Heading(4, ("Changes",))] if self.changed else []
        room -= self.size(details)
        kept = 0
        for step in self.changed:
            step_blocks = _resource_blocks(step)
            if self.size(step_blocks) > room:
                break
            details.extend(step_blocks)
            room -= self.size(step_blocks)
            kept += 1

        rest = self.changed[kept:]
        listed: list[Line] = []
        # The closing note is a few hundred characters at most; the list of
        # names may use the rest of the room kept for it.
        room += _NOTE_RESERVE // 2
        for step in rest:
            item = _resource_title(step)
            if self.size([BulletList((*listed, item))]) > room:
                break
            listed.append(item)
        if listed:
            intro = Paragraph(("Not detailed:",))
            details.extend([intro, BulletList(tuple(listed))])
            room -= self.size([intro, BulletList(tuple(listed))])

        warnings = _warnings_section(self.warnings)
        if rest or self.size(warnings) > room:
            warnings = []

        cut = _Cut(
            detailed=Counter(step.op for step in rest),
            unlisted=len(rest) - len(listed),
            policies=len(self.policies) - policies,
            errors=len(self.errors) - errors,
            warnings=len(self.warnings) if not warnings else 0,
        )
        blocks.extend(details)
        blocks.extend(warnings)
        blocks.extend(_cut_note(cut, limit))
        return _hard_cut(render_blocks(blocks, self.fmt), limit)

    def _fit_essentials(self, limit: int) -> tuple[int, int]:
        errors, policies = len(self.errors), len(self.policies)
        budget = limit - _NOTE_RESERVE
        if self.size(self.essentials(errors, policies)) <= budget:
            return errors, policies
        errors = min(errors, _ERRORS_KEPT_WHEN_SHORT)
        # The longest prefix of policy results (mandatory first) that fits.
        low, high = 0, policies
        while low < high:
            middle = (low + high + 1) // 2
            if self.size(self.essentials(errors, middle)) <= budget:
                low = middle
            else:
                high = middle - 1
        return errors, low


def _head(preview: Preview) -> list[Block]:
    where = "/".join(part for part in (preview.project, preview.stack) if part)
    blocks: list[Block] = [Hidden(f"{MARKER} {where}".strip())]
    title: Line = ("Pulumi preview",)
    if where:
        title = (*title, " of ", Code(where))
    blocks.append(Heading(3, (*title, ": ", _status(preview))))

    counts = preview.counts
    columns = ["create", "update", "replace", "delete"]
    columns += sorted(op for op in counts if op not in _OP_WORDS and counts[op])
    columns.append("same")
    header = tuple(_OP_WORDS.get(op, op).capitalize() for op in columns)
    blocks.append(
        Table(
            header,
            (tuple((str(counts[op]),) for op in columns),),
            right_aligned=frozenset(range(len(columns))),
        )
    )
    if not preview.finished:
        note = (
            "The input stops before the engine's summary: the preview did not "
            "finish, so the counts, the bill and the changes may be incomplete."
        )
        blocks.append(Paragraph((note,), note=True))
    elif preview.errored:
        note = (
            "The preview stopped on errors: the counts, the bill and the changes "
            "cover only what it planned before."
        )
        blocks.append(Paragraph((note,), note=True))
    return blocks


def _status(preview: Preview) -> str:
    verdicts = ["failed"] if preview.errored else []
    if mandatory := len(preview.mandatory_violations):
        verdicts.append(
            f"blocked by {_plural(mandatory, 'mandatory policy violation')}"
        )
    if verdicts:
        return ", ".join(verdicts)
    if preview.failed:
        return "failed"
    changes = sum(count for op, count in preview.counts.items() if op != "same")
    return _plural(changes, "change") if changes else "no changes"


def _errors(preview: Preview) -> list[Line]:
    lines: list[Line] = []
    for step in preview.steps:
        if step.failed and not any(d.urn == step.urn for d in preview.diagnostics):
            lines.append((*_resource_name(step.urn), ": the planned step failed."))
    lines.extend(_diagnostic_line(diagnostic) for diagnostic in preview.errors)
    return lines


def _errors_section(errors: list[Line], kept: int) -> list[Block]:
    if not errors:
        return []
    return [Heading(4, ("Errors",)), BulletList(tuple(errors[:kept]))]


def _warnings_section(warnings: list[Diagnostic]) -> list[Block]:
    if not warnings:
        return []
    items = tuple(_diagnostic_line(warning) for warning in warnings)
    return [Heading(4, ("Warnings",)), BulletList(items)]


def _diagnostic_line(diagnostic: Diagnostic) -> Line:
    message = _clip(diagnostic.message, _ERROR_LIMIT)
    if not diagnostic.urn or split_urn(diagnostic.urn)[2] == _STACK_TYPE:
        return (message,)
    return (*_resource_name(diagnostic.urn), ": ", message)


def _policy_order(result: PolicyResult) -> tuple[int, str, str, str]:
    level = LEVEL_ORDER.index(result.level) if result.level in LEVEL_ORDER else 99
    return level, result.policy, result.urn, result.message


def _policy_section(
    preview: Preview, results: list[PolicyResult], kept: int
) -> list[Block]:
    blocks: list[Block] = [Heading(4, ("Policy results",))]
    if not preview.policies_known:
        note: Line = (
            "Not available: ",
            Code("pulumi preview --json"),
            " leaves policy results out. Pass the preview's ",
            Code("--event-log"),
            " file to include them.",
        )
        return [*blocks, Paragraph(note, note=True)]

    packs = [
        (Code(name), f" {version}" if version else "")
        for name, version in sorted(preview.policy_packs.items())
    ]
    pack_line: Line = tuple(part for pack in packs for part in (*pack, ", "))[:-1]
    if not results:
        if packs:
            return [*blocks, Paragraph(("No violations from ", *pack_line, "."))]
        return [*blocks, Paragraph(("No policy packs ran.",))]

    mandatory = sum(1 for result in results if result.is_mandatory)
    summary: Line = (_plural(len(results), "violation"),)
    if mandatory:
        summary = (*summary, ", ", Strong(f"{mandatory} mandatory"))
    if packs:
        summary = (*summary, " from ", *pack_line)
    rows = tuple(
        (
            (Strong(result.level) if result.is_mandatory else result.level,),
            (Code(result.policy),),
            _policy_target(result.urn),
            (_clip(result.message, _MESSAGE_LIMIT),),
        )
        for result in results[:kept]
    )
    table = Table(("Level", "Policy", "Resource", "Message"), rows)
    return [*blocks, Paragraph((*summary, ".")), table]


def _policy_target(urn: str) -> Line:
    # Stack policies report against the stack's own URN, or none at all.
    if not urn or split_urn(urn)[2] == _STACK_TYPE:
        return ("stack",)
    return _resource_name(urn)


def _bill(bill: GpuBill) -> list[Block]:
    blocks: list[Block] = [Heading(4, ("GPU bill (estimate)",))]
    before, after = bill.before, bill.after
    rows: list[tuple[Line, ...]] = [
        _count_row("VMs", before.vms, after.vms),
        _count_row("GPUs", before.gpus, after.gpus),
    ]
    models = sorted(set(before.gpus_by_model) | set(after.gpus_by_model))
    if len(models) > 1:
        for model in models:
            rows.append(
                _count_row(
                    f"GPUs: {model}",
                    before.gpus_by_model.get(model, 0),
                    after.gpus_by_model.get(model, 0),
                )
            )
    elif models:
        rows[1] = _count_row(f"GPUs ({models[0]})", before.gpus, after.gpus)
    if bill.priced:
        change = after.hourly - before.hourly
        rows.append(
            (
                ("Hourly price",),
                (_money(before.hourly),),
                (_money(after.hourly),),
                (_signed_money(change),),
            )
        )
    blocks.append(
        Table(("", "Before", "After", "Change"), tuple(rows), frozenset({1, 2, 3}))
    )

    notes: list[Line] = []
    if bill.priced:
        notes.append(
            (
                "Estimate at the hourly list prices of the Infrahub pricebook, for "
                "VMs only: volumes, public IPs and discounts are not included.",
            )
        )
    else:
        reason = bill.prices_error or "no pricebook was given"
        notes.append((f"No hourly price: {reason}.",))
    notes.extend(_fleet_notes("Before", before))
    notes.extend(_fleet_notes("After", after))
    if bill.unlisted_unchanged:
        notes.append(
            (
                "Unchanged VMs are not counted: ",
                Code("--json"),
                f" output leaves out the {bill.unlisted_unchanged} unchanged "
                "resources unless the preview ran with ",
                Code("--show-sames"),
                "; the event log always lists them.",
            )
        )
    blocks.extend(Paragraph(note, note=True) for note in notes)
    return blocks


def _fleet_notes(side: str, fleet: Fleet) -> list[Line]:
    notes: list[Line] = []
    if fleet.unknown:
        notes.append(
            (f"{side}: GPUs not known until apply for ", *_names(fleet.unknown), ".")
        )
    if fleet.unpriced:
        notes.append((f"{side}: no pricebook entry for ", *_names(fleet.unpriced), "."))
    return notes


def _names(names: Sequence[str], shown: int = 10) -> Line:
    parts: list[str | Code] = []
    for name in names[:shown]:
        parts.extend((Code(name), ", "))
    parts = parts[:-1]
    if len(names) > shown:
        parts.append(f" and {len(names) - shown} more")
    return tuple(parts)


def _count_row(label: str, before: int, after: int) -> tuple[Line, ...]:
    change = after - before
    return (
        (label,),
        (str(before),),
        (str(after),),
        (f"{change:+d}" if change else "0",),
    )


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _signed_money(value: float) -> str:
    if round(value, 2) == 0:
        return "$0.00"
    return ("+" if value > 0 else "-") + _money(abs(value))


def _ordered(steps: Sequence[ResourceStep]) -> list[ResourceStep]:
    # By importance, then by name: the engine plans in parallel, so the order
    # of its events changes from run to run.
    def rank(step: ResourceStep) -> tuple[int, int, str, str]:
        op = _OP_ORDER.index(step.op) if step.op in _OP_ORDER else len(_OP_ORDER)
        return (0 if step.failed else 1), op, step.short_type, step.name

    return sorted(steps, key=rank)


def _resource_title(step: ResourceStep) -> Line:
    return (step.op, " ", step.short_type, " ", Code(step.name))


def _resource_name(urn: str) -> Line:
    _, _, resource_type, name = split_urn(urn)
    return (short_type(resource_type), " ", Code(name))


def _resource_blocks(step: ResourceStep) -> list[Block]:
    blocks: list[Block] = [Heading(5, _resource_title(step))]
    notes: list[Line] = []
    if step.failed:
        notes.append(("The preview failed for this resource.",))
    if step.op == "replace" and step.replace_reasons:
        notes.append(("Replaced because of ", *_names(step.replace_reasons), "."))
    elif step.op == "replace":
        notes.append(("The provider named no property that forces this replacement.",))
    if step.internal_only:
        notes.append(("Only internal provider data changed.",))
    if step.op == "delete" and step.old is not None and step.old.id:
        notes.append(("ID ", Code(step.old.id), "."))
    blocks.extend(Paragraph(note) for note in notes)
    if step.changes:
        blocks.append(_changes_table(step))
    return blocks


def _changes_table(step: ResourceStep) -> Table:
    if step.op == "create":
        rows = tuple(
            ((Code(change.path),), _value(change.new)) for change in step.changes
        )
        return Table(("Property", "Value"), rows)
    replacing = any(change.forces_replacement for change in step.changes)
    header = ("Property", "Before", "After") + (("Replaces",) if replacing else ())
    return Table(
        header, tuple(_change_row(change, replacing) for change in step.changes)
    )


def _change_row(change: PropertyChange, replacing: bool) -> tuple[Line, ...]:
    row: tuple[Line, ...] = (
        (Code(change.path),),
        _value(change.old),
        _value(change.new),
    )
    if replacing:
        row = (*row, ("yes",) if change.forces_replacement else ("",))
    return row


def _value(value: object) -> Line:
    if value is MISSING:
        return ("-",)
    return (Code(format_value(value)),)


def _cut_note(cut: _Cut, limit: int) -> list[Block]:
    parts: list[str] = []
    if cut.detailed:
        by_op = ", ".join(f"{count} {op}" for op, count in sorted(cut.detailed.items()))
        total = sum(cut.detailed.values())
        parts.append(f"details of {_plural(total, 'resource')} ({by_op})")
        if cut.unlisted:
            parts.append(f"the names of {cut.unlisted} of them")
    if cut.policies:
        parts.append(
            f"{_plural(cut.policies, 'policy result')} (mandatory ones come first)"
        )
    if cut.errors:
        parts.append(_plural(cut.errors, "error"))
    if cut.warnings:
        parts.append(_plural(cut.warnings, "warning"))
    if not parts:
        return []
    note = (
        f"Left out to stay under {limit:,} characters: {'; '.join(parts)}. "
        "The preview's own output in the CI log has everything."
    )
    return [Paragraph((note,), note=True)]


def _hard_cut(text: str, limit: int) -> str:
    # Reached only with a limit too small for the essentials themselves.
    if len(text) <= limit:
        return text
    tail = "\n[report cut at the size limit]\n"
    return text[: max(limit - len(tail), 0)] + tail[:limit]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
