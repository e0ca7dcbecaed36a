"""Policies on what each virtual machine asks for: flavor, GPUs and labels.

They read the VM's inputs after the provider's `check`, which adds `gpu` (the
GPU model, `""` for CPU-only flavors) and `gpu_count` from the flavor catalog,
so the GPU rules never guess from a flavor's name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)
from pulumi_policy.proxy import UnknownValueError

from ._adapt import resource_validator
from ._support import (
    UNKNOWN,
    VIRTUAL_MACHINE,
    Unknowns,
    allows_everything,
    config_count,
    config_strings,
    counted,
    first_match,
    quoted,
    require_type,
    settings,
    subject_of,
    whole_number,
)

ALLOWED_FLAVORS: Final = "infrahub-vm-allowed-flavors"
ALLOWED_GPU_MODELS: Final = "infrahub-vm-allowed-gpu-models"
MAX_GPUS_PER_VM: Final = "infrahub-vm-max-gpus"
REQUIRED_LABELS: Final = "infrahub-vm-required-labels"


def _patterns(description: str, default: list[str]) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "default": default,
        "description": description,
    }


def _flavor_of(props: Mapping[str, Any]) -> str:
    """The VM's flavor for a message, or a stand-in when it cannot be read."""
    try:
        flavor = props.get("flavor_name")
    except UnknownValueError:
        return "its flavor"
    if isinstance(flavor, str) and flavor:
        return f"flavor '{flavor}'"
    return "its flavor"


_FLAVORS_SCHEMA = PolicyConfigSchema(
    properties={
        "allowedFlavors": {
            **_patterns(
                "Glob patterns of the flavors a VM may use, matched ignoring "
                "case; '*' allows every flavor.",
                ["*"],
            ),
            "minItems": 1,
        },
        "deniedFlavors": _patterns(
            "Glob patterns of flavors no VM may use; a match here wins over "
            "allowedFlavors.",
            [],
        ),
    }
)


def _flavor_violations(args: ResourceValidationArgs) -> Iterator[str]:
    require_type(args, VIRTUAL_MACHINE)
    config = settings(args, ALLOWED_FLAVORS, _FLAVORS_SCHEMA)
    allowed = config_strings(config, "allowedFlavors", ALLOWED_FLAVORS)
    denied = config_strings(config, "deniedFlavors", ALLOWED_FLAVORS)
    if allows_everything(allowed) and not denied:
        return

    subject = subject_of(args.resource_type, args.name)
    unknowns = Unknowns()
    flavor = unknowns.read(args.props, "flavor_name", subject)
    unknowns.skip_if_any()

    if not isinstance(flavor, str) or not flavor:
        yield (
            f"{subject} has no flavor_name, so its flavor cannot be checked. "
            f"Set flavor_name to a flavor matching allowedFlavors ({quoted(allowed)})."
        )
        return
    pattern = first_match(flavor, denied)
    if pattern is not None:
        yield (
            f"{subject} uses flavor '{flavor}', which matches '{pattern}' in "
            "deniedFlavors. Choose another flavor, or remove the pattern from "
            "deniedFlavors."
        )
    elif first_match(flavor, allowed) is None:
        yield (
            f"{subject} uses flavor '{flavor}', which matches none of "
            f"allowedFlavors ({quoted(allowed)}). Choose a flavor that matches, "
            "or add it to allowedFlavors."
        )


allowed_flavors = ResourceValidationPolicy(
    name=ALLOWED_FLAVORS,
    display_name="Allowed VM flavors",
    description="Checks that each VM uses an allowed flavor.",
    validate=resource_validator(_flavor_violations),
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=_FLAVORS_SCHEMA,
    severity=Severity.HIGH,
    tags=["infrahub", "gpu", "cost"],
    remediation_steps=(
        "Change flavor_name to a flavor matching allowedFlavors and no pattern "
        "of deniedFlavors, or change those lists in the policy config."
    ),
)


_GPU_MODELS_SCHEMA = PolicyConfigSchema(
    properties={
        "allowedGpuModels": {
            **_patterns(
                "Glob patterns of the GPU models a VM may have, such as 'A100*' "
                "or 'L40', matched ignoring case; '*' allows every model. "
                "CPU-only VMs always pass.",
                ["*"],
            ),
            "minItems": 1,
        },
    }
)


def _gpu_model_violations(args: ResourceValidationArgs) -> Iterator[str]:
    require_type(args, VIRTUAL_MACHINE)
    config = settings(args, ALLOWED_GPU_MODELS, _GPU_MODELS_SCHEMA)
    allowed = config_strings(config, "allowedGpuModels", ALLOWED_GPU_MODELS)
    if allows_everything(allowed):
        return

    subject = subject_of(args.resource_type, args.name)
    unknowns = Unknowns()
    model = unknowns.read(args.props, "gpu", subject)
    unknowns.skip_if_any()

    if model == "":
        return
    if not isinstance(model, str):
        yield (
            f"{subject} has no GPU model (gpu), which the provider takes from "
            "the flavor catalog during check, so it cannot be checked against "
            "allowedGpuModels. Make sure flavor_name names a flavor of the "
            "catalog and the provider is up to date."
        )
    elif first_match(model, allowed) is None:
        yield (
            f"{subject} has GPU model '{model}' ({_flavor_of(args.props)}), "
            f"which matches none of allowedGpuModels ({quoted(allowed)}). Choose "
            "a flavor with an allowed GPU model, or add the model to "
            "allowedGpuModels."
        )


allowed_gpu_models = ResourceValidationPolicy(
    name=ALLOWED_GPU_MODELS,
    display_name="Allowed GPU models",
    description="Checks that each GPU VM has an allowed GPU model.",
    validate=resource_validator(_gpu_model_violations),
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=_GPU_MODELS_SCHEMA,
    severity=Severity.HIGH,
    tags=["infrahub", "gpu", "cost"],
    remediation_steps=(
        "Choose a flavor whose GPU model matches allowedGpuModels, or add the "
        "model to allowedGpuModels in the policy config."
    ),
)


_MAX_GPUS_SCHEMA = PolicyConfigSchema(
    properties={
        "maxGpusPerVm": {
            "type": "integer",
            "minimum": 0,
            "default": 8,
            "description": "The most GPUs one VM may have.",
        },
    }
)


def _gpu_count_violations(args: ResourceValidationArgs) -> Iterator[str]:
    require_type(args, VIRTUAL_MACHINE)
    config = settings(args, MAX_GPUS_PER_VM, _MAX_GPUS_SCHEMA)
    limit = config_count(config, "maxGpusPerVm", MAX_GPUS_PER_VM)

    subject = subject_of(args.resource_type, args.name)
    unknowns = Unknowns()
    value = unknowns.read(args.props, "gpu_count", subject)
    unknowns.skip_if_any()

    count = whole_number(value)
    if count is None:
        found = "no gpu_count" if value is None else f"gpu_count {value!r}"
        yield (
            f"{subject} has {found} instead of a whole number, so its GPUs "
            f"cannot be checked against the limit of {limit}. The provider "
            "takes gpu_count from the flavor catalog during check: make sure "
            "flavor_name names a flavor of the catalog and the provider is up "
            "to date."
        )
    elif count > limit:
        has, most = counted(count, "GPU"), counted(limit, "GPU")
        yield (
            f"{subject} has {has} ({_flavor_of(args.props)}); the limit is "
            f"{limit} per VM (maxGpusPerVm). Choose a flavor with at most {most}, "
            "or raise maxGpusPerVm."
        )


max_gpus_per_vm = ResourceValidationPolicy(
    name=MAX_GPUS_PER_VM,
    display_name="GPUs per VM",
    description="Checks that no VM has more GPUs than maxGpusPerVm.",
    validate=resource_validator(_gpu_count_violations),
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=_MAX_GPUS_SCHEMA,
    severity=Severity.HIGH,
    tags=["infrahub", "gpu", "cost"],
    remediation_steps=(
        "Choose a flavor with fewer GPUs, split the work over several VMs, or "
        "raise maxGpusPerVm in the policy config."
    ),
)


_LABELS_SCHEMA = PolicyConfigSchema(
    properties={
        "requiredLabels": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "uniqueItems": True,
            "default": ["owner"],
            "description": (
                "Label keys every VM must carry with a non-empty value, as "
                "`key=value` labels (or a mapping of keys to values)."
            ),
        },
    }
)


@dataclass
class _Labels:
    """A VM's labels by key, and whether every key could be read."""

    values: dict[str, Any]
    keys_known: bool
    as_mapping: bool


def _read_labels(labels: Any, subject: str, unknowns: Unknowns) -> _Labels | None:
    """Labels by key from a mapping or from `key=value` texts; None if neither.

    A value that is not known yet is `UNKNOWN`. In a mapping every key is known
    even when its value is not; an unknown text hides its key as well.
    """
    if isinstance(labels, Mapping):
        values = {str(key): unknowns.read(labels, key, subject) for key in labels}
        return _Labels(values, keys_known=True, as_mapping=True)
    if not isinstance(labels, Sequence) or isinstance(labels, str):
        return None
    values = {}
    keys_known = True
    for index in range(len(labels)):
        text = unknowns.item(labels, index, subject)
        if text is UNKNOWN:
            keys_known = False
        elif isinstance(text, str):
            key, _, value = text.partition("=")
            if not values.get(key.strip()):
                values[key.strip()] = value.strip()
    return _Labels(values, keys_known, as_mapping=False)


def _label_example(keys: Sequence[str], as_mapping: bool) -> str:
    if as_mapping:
        return "labels={" + ", ".join(f"{key!r}: '...'" for key in keys) + "}"
    return "labels=[" + ", ".join(repr(f"{key}=...") for key in keys) + "]"


def _label_violations(args: ResourceValidationArgs) -> Iterator[str]:
    require_type(args, VIRTUAL_MACHINE)
    config = settings(args, REQUIRED_LABELS, _LABELS_SCHEMA)
    required = config_strings(config, "requiredLabels", REQUIRED_LABELS)
    if not required:
        return

    subject = subject_of(args.resource_type, args.name)
    unknowns = Unknowns()
    raw = unknowns.read(args.props, "labels", subject)
    unknowns.skip_if_any()
    labels = _read_labels([] if raw is None else raw, subject, unknowns)

    if labels is None:
        yield (
            f"{subject} has labels that are neither a list of `key=value` texts "
            f"nor a mapping, so the required labels ({quoted(required)}) cannot "
            "be checked. Pass labels as a list such as "
            f"{_label_example(required, as_mapping=False)}."
        )
        return
    missing = [key for key in required if key not in labels.values]
    # A missing key is proven only when no label text is still unknown.
    if missing and labels.keys_known:
        noun, them = ("label", "it") if len(missing) == 1 else ("labels", "them")
        yield (
            f"{subject} is missing the required {noun} {quoted(missing)}. Add "
            f"{them}, for example {_label_example(missing, labels.as_mapping)}, "
            "or change requiredLabels."
        )
    empty = [
        key
        for key in required
        if key in labels.values
        and labels.values[key] is not UNKNOWN
        and not (isinstance(labels.values[key], str) and labels.values[key].strip())
    ]
    if empty:
        noun = "label" if len(empty) == 1 else "labels"
        example = _label_example(empty, labels.as_mapping)
        yield (
            f"{subject} has the required {noun} {quoted(empty)} without a value. "
            f"Give each a value, for example {example}."
        )
    unknowns.skip_if_any()


required_labels = ResourceValidationPolicy(
    name=REQUIRED_LABELS,
    display_name="Required VM labels",
    description="Checks that each VM carries the labels in requiredLabels.",
    validate=resource_validator(_label_violations),
    # No level of its own: labelling follows the level the pack sets.
    config_schema=_LABELS_SCHEMA,
    severity=Severity.LOW,
    tags=["infrahub", "hygiene"],
    remediation_steps=(
        "Add each label in requiredLabels to the VM's labels as `key=value`."
    ),
)
