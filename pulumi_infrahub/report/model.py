"""What a preview says, independent of the file it was read from."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_infrahub.report.values import (
    MISSING,
    SECRET,
    clean_properties,
    contains_secret,
    is_internal_key,
    lookup,
    parse_path,
    secret_keys,
)

__all__ = [
    "Diagnostic",
    "PolicyResult",
    "Preview",
    "PropertyChange",
    "ResourceState",
    "ResourceStep",
    "build_step",
    "short_type",
    "split_urn",
]

# Halves of a replacement: the logical `replace` step stands for both.
REPLACEMENT_HALVES = frozenset(
    {
        "create-replacement",
        "delete-replaced",
        "discard-replaced",
        "read-replacement",
        "import-replacement",
        "remove-pending-replace",
    }
)

# Enforcement levels in the order the report lists them.
LEVEL_ORDER = ("mandatory", "remediate", "advisory", "warning", "disabled", "none")

_STACK_TYPE = "pulumi:pulumi:Stack"

# The engine's closing error when a run fails; the report's status line says
# the same, and the causes are listed on their own.
_VERDICTS = frozenset({"preview failed", "update failed"})
_PROVIDER_TYPE_PREFIX = "pulumi:providers:"


def split_urn(urn: str) -> tuple[str, str, str, str]:
    """Stack, project, type and name of a resource URN.

    A URN reads `urn:pulumi:<stack>::<project>::<parent types$type>::<name>`.
    """
    parts = urn.split("::", 3)
    if len(parts) != 4 or not parts[0].startswith("urn:pulumi:"):
        return "", "", "", urn
    stack = parts[0].removeprefix("urn:pulumi:")
    resource_type = parts[2].rsplit("$", 1)[-1]
    return stack, parts[1], resource_type, parts[3]


def short_type(resource_type: str) -> str:
    """`VirtualMachine` for `pulumi-python:dynamic/infrahub:VirtualMachine`."""
    return resource_type.rsplit(":", 1)[-1] or resource_type


def is_bookkeeping_type(resource_type: str) -> bool:
    """The stack itself and provider instances are not the user's resources."""
    return resource_type == _STACK_TYPE or resource_type.startswith(
        _PROVIDER_TYPE_PREFIX
    )


@dataclass(frozen=True)
class ResourceState:
    """One side of a step: cleaned inputs and outputs, secrets as markers."""

    id: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]


@dataclass(frozen=True)
class PropertyChange:
    """One changed property path with its old and new values (markers included)."""

    path: str
    kind: str
    forces_replacement: bool
    old: Any
    new: Any


@dataclass(frozen=True)
class ResourceStep:
    """What the preview plans for one resource."""

    urn: str
    type: str
    name: str
    op: str
    old: ResourceState | None
    new: ResourceState | None
    changes: tuple[PropertyChange, ...] = ()
    replace_reasons: tuple[str, ...] = ()
    internal_only: bool = False
    failed: bool = False

    @property
    def short_type(self) -> str:
        return short_type(self.type)


@dataclass(frozen=True)
class PolicyResult:
    """One policy violation (or remediation) reported by a policy pack."""

    pack: str
    pack_version: str
    policy: str
    level: str
    urn: str
    message: str

    @property
    def is_mandatory(self) -> bool:
        return self.level == "mandatory"


@dataclass(frozen=True)
class Diagnostic:
    """An error or warning the engine, a provider or the program reported."""

    severity: str
    message: str
    urn: str = ""


@dataclass(frozen=True)
class Preview:
    """Everything the report needs from one `pulumi preview` run.

    `result` is the engine's own verdict (`succeeded`, `failed`, `canceled`) or
    empty when the input did not carry one. `finished` is false when the input
    stops before the engine's summary, as it does when the CLI was killed.
    `policies_known` is false for `--json` output, which leaves policy events
    out.
    """

    steps: tuple[ResourceStep, ...]
    policies: tuple[PolicyResult, ...] = ()
    policy_packs: Mapping[str, str] = field(default_factory=dict)
    diagnostics: tuple[Diagnostic, ...] = ()
    result: str = ""
    finished: bool = True
    policies_known: bool = True
    unchanged_not_listed: int = 0
    project: str = ""
    stack: str = ""

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """Error diagnostics, without the engine's closing verdict."""
        return tuple(
            diagnostic
            for diagnostic in self.diagnostics
            if diagnostic.severity == "error" and diagnostic.message not in _VERDICTS
        )

    @property
    def errored(self) -> bool:
        """Whether the preview stopped on errors (not only on policy results).

        The plan of an errored preview may be incomplete.
        """
        if not self.finished or self.result == "canceled":
            return True
        return any(step.failed for step in self.steps) or bool(self.errors)

    @property
    def failed(self) -> bool:
        """Whether the preview did not succeed, by the engine's word or by errors."""
        return (
            self.errored
            or self.result == "failed"
            or any(diagnostic.severity == "error" for diagnostic in self.diagnostics)
        )

    @property
    def mandatory_violations(self) -> tuple[PolicyResult, ...]:
        return tuple(result for result in self.policies if result.is_mandatory)

    @property
    def counts(self) -> Counter[str]:
        """How many resources each operation touches, unchanged ones included."""
        counts = Counter(step.op for step in self.steps)
        counts["same"] += self.unchanged_not_listed
        return counts

    @property
    def changed_steps(self) -> tuple[ResourceStep, ...]:
        return tuple(step for step in self.steps if step.op != "same")


def build_step(
    *,
    op: str,
    urn: str,
    resource_type: str,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    detailed_diff: Mapping[str, Mapping[str, Any]] | None,
    diff_keys: list[str],
    replace_keys: list[str],
    hidden: frozenset[str] = frozenset(),
    failed: bool = False,
) -> ResourceStep:
    """Turn one step of either input format into a `ResourceStep`.

    `old` and `new` are raw serialised states (`id`, `inputs`, `outputs`);
    `detailed_diff` maps property paths to `{"kind": ..., "inputDiff": ...}`
    whichever spelling the input used. `hidden` names further top-level keys
    to treat as secret.
    """
    hidden = hidden | secret_keys(*_raw_maps(old), *_raw_maps(new))
    old_state = _state(old, hidden)
    new_state = _state(new, hidden)
    _, _, _, name = split_urn(urn)
    changes, internal_only = _changes(
        op, old_state, new_state, detailed_diff, diff_keys, set(replace_keys)
    )
    return ResourceStep(
        urn=urn,
        type=resource_type,
        name=name,
        op=op,
        old=old_state,
        new=new_state,
        changes=changes,
        replace_reasons=tuple(key for key in replace_keys if not is_internal_key(key)),
        internal_only=internal_only,
        failed=failed,
    )


def _raw_maps(state: Mapping[str, Any] | None) -> tuple[Mapping[str, Any] | None, ...]:
    if state is None:
        return ()
    return (state.get("inputs"), state.get("outputs"))


def _state(
    raw: Mapping[str, Any] | None, hidden: frozenset[str]
) -> ResourceState | None:
    if raw is None:
        return None
    return ResourceState(
        id=str(raw.get("id") or ""),
        inputs=clean_properties(raw.get("inputs"), hidden),
        outputs=clean_properties(raw.get("outputs"), hidden),
    )


def _changes(
    op: str,
    old: ResourceState | None,
    new: ResourceState | None,
    detailed_diff: Mapping[str, Mapping[str, Any]] | None,
    diff_keys: list[str],
    replace_keys: set[str],
) -> tuple[tuple[PropertyChange, ...], bool]:
    if op in ("same", "delete", "read", "refresh", "discard") or new is None:
        return (), False
    if op == "create" or old is None:
        added = [
            PropertyChange(key, "add", False, MISSING, value)
            for key, value in sorted(new.inputs.items())
        ]
        return tuple(added), False

    if detailed_diff is not None:
        entries = [
            (path, str(diff.get("kind", "update")))
            for path, diff in detailed_diff.items()
        ]
        input_side = {
            path: bool(diff.get("inputDiff", True))
            for path, diff in detailed_diff.items()
        }
    else:
        keys = diff_keys or _differing_keys(old.inputs, new.inputs)
        entries = [(key, _kind_of(old.inputs, new.inputs, key)) for key in keys]
        input_side = {key: True for key in keys}

    visible = [(path, kind) for path, kind in entries if not _is_internal_path(path)]
    changes = [
        _change(path, kind, old, new, input_side[path], replace_keys)
        for path, kind in sorted(visible, key=lambda entry: _path_order(entry[0]))
    ]
    return tuple(changes), bool(entries) and not visible


def _change(
    path: str,
    kind: str,
    old: ResourceState,
    new: ResourceState,
    from_inputs: bool,
    replace_keys: set[str],
) -> PropertyChange:
    old_value = lookup(old.inputs if from_inputs else old.outputs, path)
    new_value = lookup(new.inputs, path)
    if contains_secret(old_value) or contains_secret(new_value):
        # A value that became (or stopped being) secret is hidden on both sides.
        old_value = SECRET if old_value is not MISSING else MISSING
        new_value = SECRET if new_value is not MISSING else MISSING
    top_key = str(parse_path(path)[0])
    forces = kind.endswith("-replace") or top_key in replace_keys
    return PropertyChange(
        path=path,
        kind=kind.removesuffix("-replace"),
        forces_replacement=forces,
        old=old_value,
        new=new_value,
    )


def _path_order(path: str) -> tuple[tuple[int, int, str], ...]:
    # `rules[2]` before `rules[10]`: indexes compare as numbers.
    return tuple(
        (0, part, "") if isinstance(part, int) else (1, 0, part)
        for part in parse_path(path)
    )


def _is_internal_path(path: str) -> bool:
    return is_internal_key(str(parse_path(path)[0]))


def _differing_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return sorted(
        key
        for key in old.keys() | new.keys()
        if old.get(key, MISSING) != new.get(key, MISSING)
    )


def _kind_of(old: Mapping[str, Any], new: Mapping[str, Any], key: str) -> str:
    if key not in old:
        return "add"
    if key not in new:
        return "delete"
    return "update"
