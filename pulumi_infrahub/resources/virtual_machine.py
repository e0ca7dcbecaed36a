"""VirtualMachine: one Hyperstack VM as a Pulumi resource."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import pulumi
import pulumi.dynamic
from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from pulumi_infrahub.client import (
    BadRequestError,
    FailedStateError,
    InfrahubError,
    NotFoundError,
    VirtualMachinesClient,
    WaitError,
)
from pulumi_infrahub.client.models import ProfileRef
from pulumi_infrahub.client.models import VirtualMachine as APIVM
from pulumi_infrahub.resources._inputs import (
    MAX_DESCRIPTION,
    MAX_NAME,
    Failures,
    has_unknowns,
    is_unknown,
    read_name,
    timeout_for,
)
from pulumi_infrahub.resources._provider import (
    InfrahubProvider,
    NotInCatalogError,
    ResourceError,
    connection,
    existing,
    merge_options,
    settings_failures_reported,
)
from pulumi_infrahub.resources._rules import RuleSpec, is_default_egress, read_rule

__all__ = ["VirtualMachine", "VirtualMachineArgs", "VirtualMachineProvider"]

POWER_STATES = ("ACTIVE", "SHUTOFF", "HIBERNATED")

DEFAULT_TIMEOUTS: Mapping[str, float] = {
    "create": 1800.0,
    "update": 1800.0,
    "delete": 1200.0,
}

# Inputs the program sets; `name_prefix` is set by the resource class when
# `name` is left out.
INPUTS = (
    "name",
    "name_prefix",
    "environment_name",
    "image_name",
    "volume_name",
    "create_bootable_volume",
    "flavor_name",
    "key_name",
    "user_data",
    "callback_url",
    "assign_floating_ip",
    "enable_port_randomization",
    "labels",
    "security_rules",
    "profile",
    "power_state",
    "timeouts",
    "adopt_id",
)

# Inputs `check` adds from the catalog so that policies can read them during
# a preview.
DERIVED = ("gpu", "gpu_count", "region")

# A change to any of these makes a new VM: the API cannot change them on an
# existing one (resize is disabled on the live API).
REPLACE_ON_CHANGE = (
    "name",
    "environment_name",
    "image_name",
    "volume_name",
    "create_bootable_volume",
    "flavor_name",
    "key_name",
    "user_data",
    "enable_port_randomization",
)

# What `check` fills in when an input is left out, so that inputs read back
# from the API by a refresh compare equal to the program's.
DEFAULTS: Mapping[str, Any] = {
    "create_bootable_volume": False,
    "assign_floating_ip": False,
    "enable_port_randomization": True,
    "labels": [],
    "security_rules": [],
    "power_state": "ACTIVE",
}

# Computed outputs; `id` is also the resource's own `id`.
OUTPUTS = (
    "status",
    "vm_state",
    "vm_power_state",
    "fixed_ip",
    "floating_ip",
    "floating_ip_status",
    "cpu",
    "ram",
    "disk",
    "created_at",
    "security_rule_ids",
    "volume_attachment_ids",
)

# Statuses a VM passes through on its way to a settled one.
_TRANSITIONAL = {
    "CREATING": "ACTIVE",
    "BUILD": "ACTIVE",
    "STARTING": "ACTIVE",
    "REBOOTING": "ACTIVE",
    "RESTORING": "ACTIVE",
    "STOPPING": "SHUTOFF",
    "HIBERNATING": "HIBERNATED",
}


class VirtualMachineProvider(InfrahubProvider):
    """The dynamic provider behind `VirtualMachine`."""

    # -- check -------------------------------------------------------------

    @settings_failures_reported
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        olds = _olds
        failures = Failures()
        inputs: dict[str, Any] = {}

        for key in sorted(set(news) - set(INPUTS) - set(DERIVED) - {"__provider"}):
            failures.add(key, f"{key} is not an input of VirtualMachine.")

        def take(key: str, value: Any) -> None:
            if value is not None:
                inputs[key] = value

        def raw_or(key: str, read: Any) -> Any:
            value = news.get(key)
            return value if has_unknowns(value) else read()

        take("adopt_id", raw_or("adopt_id", lambda: _adopt_id(failures, news)))
        take("name", self._name(failures, olds, news, inputs.get("adopt_id")))
        if news.get("name") is None:
            take("name_prefix", news.get("name_prefix"))
        for key in ("environment_name", "flavor_name", "key_name"):
            take(
                key, raw_or(key, lambda k=key: failures.string(news, k, required=True))
            )
        for key in ("image_name", "volume_name"):
            take(key, raw_or(key, lambda k=key: failures.string(news, k)))
        for key in ("create_bootable_volume", "assign_floating_ip"):
            take(key, raw_or(key, lambda k=key: failures.boolean(news, k)))
        take(
            "enable_port_randomization",
            raw_or(
                "enable_port_randomization",
                lambda: failures.boolean(news, "enable_port_randomization"),
            ),
        )
        take(
            "user_data", raw_or("user_data", lambda: failures.string(news, "user_data"))
        )
        take(
            "callback_url",
            raw_or("callback_url", lambda: failures.callback_url(news, "callback_url")),
        )
        take("labels", raw_or("labels", lambda: _labels(failures, news)))
        take("profile", raw_or("profile", lambda: _profile(failures, news)))
        take(
            "power_state",
            raw_or(
                "power_state",
                lambda: failures.choice(news, "power_state", POWER_STATES),
            ),
        )
        take(
            "timeouts",
            raw_or("timeouts", lambda: failures.timeouts(news, DEFAULT_TIMEOUTS)),
        )
        rules = raw_or("security_rules", lambda: _inline_rules(failures, olds, news))
        take("security_rules", rules)

        for key, default in DEFAULTS.items():
            inputs.setdefault(key, default)
        _check_boot_source(failures, inputs)
        if not failures:
            self._check_catalog(failures, olds, inputs)

        if failures:
            return CheckResult(news, failures.items)
        return CheckResult(inputs, [])

    def _name(
        self,
        failures: Failures,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        adopt_id: Any,
    ) -> Any:
        # An adopted VM keeps its own name unless the program gives one.
        if (
            news.get("name") is None
            and isinstance(adopt_id, int)
            and olds.get("adopt_id") != adopt_id
        ):
            try:
                return connection().client.virtual_machines.get(adopt_id).name
            except NotFoundError:
                failures.add("adopt_id", f"adopt_id {adopt_id}: there is no such VM.")
                return None
        return read_name(failures, olds, news)

    def _check_catalog(
        self, failures: Failures, olds: Mapping[str, Any], inputs: dict[str, Any]
    ) -> None:
        """Resolve names against the catalog and add `gpu`, `gpu_count` and
        `region`. Names unchanged since the last run are not looked up again:
        an existing VM stays valid when its flavor runs out of stock."""
        env_name = inputs["environment_name"]
        if is_unknown(env_name):
            for key in DERIVED:
                inputs[key] = env_name
            return

        catalog = connection().catalog
        same_env = olds.get("environment_name") == env_name and "region" in olds
        if same_env:
            region = olds["region"]
        else:
            try:
                region = catalog.environment(env_name).region or ""
            except NotInCatalogError as missing:
                failures.add("environment_name", str(missing))
                return
        inputs["region"] = region

        flavor_name = inputs["flavor_name"]
        same_flavor = same_env and olds.get("flavor_name") == flavor_name
        hibernating = inputs["power_state"] == "HIBERNATED"
        if is_unknown(flavor_name):
            inputs["gpu"] = inputs["gpu_count"] = flavor_name
        elif (
            same_flavor
            and "gpu" in olds
            and not (hibernating and olds.get("power_state") != "HIBERNATED")
        ):
            inputs["gpu"], inputs["gpu_count"] = olds["gpu"], olds["gpu_count"]
        else:
            try:
                flavor = catalog.flavor(flavor_name, region)
            except NotInCatalogError as missing:
                failures.add("flavor_name", str(missing))
            else:
                inputs["gpu"] = flavor.gpu or ""
                inputs["gpu_count"] = flavor.gpu_count or 0
                if flavor.stock_available is False and not same_flavor:
                    failures.add(
                        "flavor_name",
                        f"flavor_name {flavor_name!r} has no stock in region "
                        f"{region}; choose another flavor (get_flavors(region="
                        f"{region!r}, in_stock=True) lists those in stock) or "
                        "another environment.",
                    )
                if hibernating and (flavor.features or {}).get("no_hibernation"):
                    failures.add(
                        "power_state",
                        f"flavor {flavor_name!r} cannot hibernate; use "
                        "'SHUTOFF' or a flavor that supports hibernation.",
                    )

        def changed(key: str) -> bool:
            value = inputs.get(key)
            return (
                value is not None
                and not is_unknown(value)
                and not (same_env and olds.get(key) == value)
            )

        if changed("image_name"):
            try:
                catalog.image(inputs["image_name"], region)
            except NotInCatalogError as missing:
                failures.add("image_name", str(missing))
        if changed("key_name"):
            try:
                catalog.keypair(inputs["key_name"], env_name)
            except NotInCatalogError as missing:
                failures.add("key_name", str(missing))
        if changed("volume_name"):
            _check_boot_volume(failures, inputs)

    # -- diff --------------------------------------------------------------

    def diff(
        self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]
    ) -> DiffResult:
        olds, news = _olds, _news
        replaces = [key for key in REPLACE_ON_CHANGE if _differs(olds, news, key)]
        if not replaces:
            return DiffResult(changes=None)

        if news.get("adopt_id") is not None:
            raise ResourceError(
                f"VM {_id} was adopted through adopt_id and a change to "
                + ", ".join(replaces)
                + " would replace it. Remove adopt_id from the program (it has "
                "done its job once recorded) and run again, or keep those "
                "inputs as they are."
            )
        # A new VM with the same explicit name, or with the same existing boot
        # volume, cannot exist beside the old one: delete the old one first.
        explicit_name = news.get("name_prefix") is None and "name" not in replaces
        same_volume = (
            news.get("volume_name") is not None and "volume_name" not in replaces
        )
        return DiffResult(
            changes=None,
            replaces=replaces,
            delete_before_replace=explicit_name or same_volume,
        )

    # -- create ------------------------------------------------------------

    def create(self, props: dict[str, Any]) -> CreateResult:
        vms = connection().client.virtual_machines
        deadline = time.monotonic() + timeout_for(props, "create", DEFAULT_TIMEOUTS)

        adopt_id = props.get("adopt_id")
        if adopt_id is not None:
            vm, rule_ids = self._adopt(vms, int(adopt_id), props, deadline)
            return CreateResult(str(vm.id), _outputs(props, vm, rule_ids))

        [vm] = vms.create(
            props["name"],
            environment_name=props["environment_name"],
            flavor_name=props["flavor_name"],
            key_name=props["key_name"],
            image_name=props.get("image_name"),
            count=1,
            volume_name=props.get("volume_name"),
            create_bootable_volume=props.get("create_bootable_volume") or None,
            user_data=props.get("user_data"),
            callback_url=props.get("callback_url"),
            assign_floating_ip=bool(props.get("assign_floating_ip")),
            enable_port_randomization=props.get("enable_port_randomization"),
            labels=props.get("labels") or None,
            security_rules=[spec.to_payload() for spec in _rule_specs(props)] or None,
            profile=_profile_ref(props.get("profile")),
        )
        try:
            settled, rule_ids = self._settle_new(vms, vm.id, props, deadline)
        except Exception as failure:
            # Whatever went wrong, what was made must not outlive the error:
            # a failed create leaves nothing in Pulumi's state.
            self._roll_back(vms, vm, failure, props)
        return CreateResult(str(settled.id), _outputs(props, settled, rule_ids))

    def _settle_new(
        self,
        vms: VirtualMachinesClient,
        vm_id: int,
        props: Mapping[str, Any],
        deadline: float,
    ) -> tuple[APIVM, list[int]]:
        """Wait until a new VM is usable, then bring it to its power state."""
        vm = vms.wait_for_status(
            vm_id,
            "ACTIVE",
            public_ip=bool(props.get("assign_floating_ip")),
            timeout=_left(deadline),
        )
        rule_ids = _sync_rules(vms, vm, _rule_specs(props), deadline, claim=True)
        vm = _set_power(vms, vm, props["power_state"], props, deadline)
        return vm, rule_ids

    def _roll_back(
        self,
        vms: VirtualMachinesClient,
        vm: APIVM,
        failure: Exception,
        props: Mapping[str, Any],
    ) -> NoReturn:
        last = failure.last if isinstance(failure, WaitError) else None
        status = last.status if isinstance(last, APIVM) else "unknown"
        cause = _cause(vms, vm.id, failure)
        try:
            _delete_and_wait(vms, vm.id, timeout_for(props, "delete", DEFAULT_TIMEOUTS))
        except InfrahubError as cleanup:
            raise ResourceError(
                f"VM {vm.name!r} (id {vm.id}) did not become usable: {cause} "
                f"(last status {status}). Deleting it failed too, so it may still "
                f"exist: {cleanup}. Delete it in the console or run "
                "`pulumi up` again once it has settled."
            ) from failure
        raise ResourceError(
            f"VM {vm.name!r} (id {vm.id}) did not become usable: {cause} (last "
            f"status {status}). It has been deleted, so nothing is left behind."
        ) from failure

    def _adopt(
        self,
        vms: VirtualMachinesClient,
        vm_id: int,
        props: Mapping[str, Any],
        deadline: float,
    ) -> tuple[APIVM, list[int]]:
        try:
            vm = vms.get(vm_id)
        except NotFoundError:
            raise ResourceError(
                f"adopt_id {vm_id}: there is no VM with this id for this API key."
            ) from None

        live, _ = _implied_inputs(vm, {})
        mismatches = [
            f"{key} is {props.get(key)!r} in the program but {live[key]!r} on the VM"
            for key in (
                "name",
                "environment_name",
                "flavor_name",
                "image_name",
                "key_name",
                "enable_port_randomization",
            )
            if live.get(key) is not None and props.get(key) != live[key]
        ]
        if mismatches:
            raise ResourceError(
                f"VM {vm_id} cannot be adopted as it is: "
                + "; ".join(mismatches)
                + ". These cannot change without a new VM; set the inputs to the "
                "VM's values."
            )
        return self._converge(vms, vm, {}, props, deadline, claim=True)

    # -- update ------------------------------------------------------------

    def update(
        self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]
    ) -> UpdateResult:
        vms = connection().client.virtual_machines
        deadline = time.monotonic() + timeout_for(_news, "update", DEFAULT_TIMEOUTS)
        try:
            vm = vms.get(int(_id))
        except NotFoundError:
            raise ResourceError(
                f"VM {_id} no longer exists. Run `pulumi refresh` to drop it from "
                "the state, then `pulumi up` to create it again."
            ) from None
        vm, rule_ids = self._converge(vms, vm, _olds, _news, deadline)
        return UpdateResult(_outputs(_news, vm, rule_ids))

    def _converge(
        self,
        vms: VirtualMachinesClient,
        vm: APIVM,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        deadline: float,
        *,
        claim: bool = False,
    ) -> tuple[APIVM, list[int]]:
        """Apply every in-place input to a live VM; return it afterwards with
        the ids of its inline rules. With `claim`, live rules equal to inline
        ones are taken over instead of made again (adoption)."""
        labels = news.get("labels") or []
        if sorted(set(vm.labels)) != labels:
            vms.set_labels(vm.id, labels)

        current_url, wanted_url = vm.callback_url or None, news.get("callback_url")
        if wanted_url is None and current_url is not None:
            vms.delete_callback(vm.id)
        elif wanted_url is not None and current_url is None:
            vms.attach_callback(vm.id, wanted_url)
        elif wanted_url != current_url:
            assert wanted_url is not None
            vms.update_callback(vm.id, wanted_url)

        wanted_ip = bool(news.get("assign_floating_ip"))
        vm = _settled(vms, vm, deadline)
        vm = _set_public_ip(vms, vm, wanted_ip, deadline)
        vm = _set_power(vms, vm, news.get("power_state") or "ACTIVE", news, deadline)
        if bool(vm.public_ip) != wanted_ip and vm.status in ("ACTIVE", "SHUTOFF"):
            vm = _set_public_ip(vms, vm, wanted_ip, deadline)

        owned = _owned_rules(olds)
        rule_ids = _sync_rules(
            vms, vm, _rule_specs(news), deadline, owned=owned, claim=claim
        )
        return vms.get(vm.id), rule_ids

    # -- read --------------------------------------------------------------

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        vms = connection().client.virtual_machines
        try:
            vm = vms.get(_parse_id(id_))
        except NotFoundError:
            return ReadResult("", {})

        inputs, rule_ids = _implied_inputs(vm, props)
        return ReadResult(id_, _outputs(inputs, vm, rule_ids), inputs)

    # -- delete ------------------------------------------------------------

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        vms = connection().client.virtual_machines
        _delete_and_wait(
            vms, _parse_id(_id), timeout_for(_props, "delete", DEFAULT_TIMEOUTS)
        )


# -- reading inputs --------------------------------------------------------


def _adopt_id(failures: Failures, news: Mapping[str, Any]) -> int | None:
    if news.get("adopt_id") is None:
        return None
    return failures.object_id(news, "adopt_id")


def _labels(failures: Failures, news: Mapping[str, Any]) -> list[str] | None:
    labels = failures.string_list(news, "labels")
    # The API keeps labels as a set in effect; sorting keeps a reordering in
    # the program from showing as a change.
    return sorted(set(labels)) if labels is not None else None


def _profile(failures: Failures, news: Mapping[str, Any]) -> dict[str, str] | None:
    raw = news.get("profile")
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        failures.add("profile", "profile must be a map with name and description.")
        return None
    extra = sorted(set(raw) - {"name", "description"})
    if extra:
        failures.add(
            "profile", f"profile has no field {extra[0]!r}; use name and description."
        )
    name = failures.string(
        raw, "name", required=True, max_length=MAX_NAME, what=" in profile"
    )
    description = failures.string(raw, "description", max_length=MAX_DESCRIPTION)
    if name is None:
        return None
    profile = {"name": name}
    if description is not None:
        profile["description"] = description
    return profile


def _inline_rules(
    failures: Failures, olds: Mapping[str, Any], news: Mapping[str, Any]
) -> list[dict[str, Any]] | None:
    raw = news.get("security_rules")
    if raw is None:
        return None
    if not isinstance(raw, (list, tuple)):
        failures.add("security_rules", "security_rules must be a list of rules.")
        return None

    # Rules already in place were checked when they were made; only new ones
    # need the API's list of protocols.
    protocols = None
    if list(raw) != olds.get("security_rules"):
        protocols = connection().catalog.protocols()
    specs: list[RuleSpec] = []
    for index, item in enumerate(raw):
        spec = read_rule(item, failures, f"security_rules[{index}].", protocols)
        if spec is None:
            continue
        if is_default_egress(spec):
            failures.add(
                f"security_rules[{index}]",
                "the API gives every VM an egress rule to anywhere for every "
                "protocol by itself; leave this rule out.",
            )
        elif spec in specs:
            failures.add(
                f"security_rules[{index}]",
                f"security_rules[{index}] repeats security_rules"
                f"[{specs.index(spec)}]; remove one of them.",
            )
        else:
            specs.append(spec)
    # A stable order keeps a reordering in the program from showing as a change.
    return [spec.to_props() for spec in sorted(specs, key=RuleSpec.sort_key)]


def _check_boot_source(failures: Failures, inputs: Mapping[str, Any]) -> None:
    image, volume = inputs.get("image_name"), inputs.get("volume_name")
    bootable = inputs.get("create_bootable_volume")
    if is_unknown(image) or is_unknown(volume) or is_unknown(bootable):
        return
    if image is None and volume is None:
        failures.add(
            "image_name",
            "image_name is required unless the VM boots from an existing "
            "bootable volume given as volume_name.",
        )
    if bootable and image is None:
        failures.add(
            "create_bootable_volume",
            "create_bootable_volume makes the boot volume from image_name; set "
            "image_name too.",
        )
    if bootable and volume is not None:
        failures.add(
            "create_bootable_volume",
            "create_bootable_volume and volume_name both name the boot volume; "
            "use one of them.",
        )


def _check_boot_volume(failures: Failures, inputs: Mapping[str, Any]) -> None:
    volumes = connection().client.volumes
    name, env = inputs["volume_name"], inputs["environment_name"]
    volume = volumes.get_by_name(name, environment=env)
    if volume is None:
        failures.add(
            "volume_name",
            f"volume_name {name!r} is not a volume in environment {env!r}. If a "
            "Volume in this program makes it, pass that resource's name output "
            "so that Pulumi creates the volume first.",
        )
    elif inputs.get("image_name") is None and volume.bootable is False:
        failures.add(
            "volume_name",
            f"volume {name!r} is not bootable and no image_name is given; make "
            "the volume from an image (Volume image_id) or set image_name.",
        )


# -- comparing -------------------------------------------------------------


def _differs(olds: Mapping[str, Any], news: Mapping[str, Any], key: str) -> bool:
    new = news.get(key, DEFAULTS.get(key))
    if has_unknowns(new):
        return True
    return bool(olds.get(key, DEFAULTS.get(key)) != new)


def _rule_specs(props: Mapping[str, Any]) -> list[RuleSpec]:
    return [RuleSpec.from_props(rule) for rule in props.get("security_rules") or []]


def _profile_ref(raw: Any) -> ProfileRef | None:
    if not isinstance(raw, Mapping):
        return None
    return ProfileRef(name=raw["name"], description=raw.get("description"))


def _parse_id(id_: str) -> int:
    try:
        return int(id_)
    except ValueError:
        raise ResourceError(
            f"{id_!r} is not a VM id; VM ids are whole numbers such as '4821'."
        ) from None


# -- talking to a live VM ----------------------------------------------------


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def _settled(vms: VirtualMachinesClient, vm: APIVM, deadline: float) -> APIVM:
    """Wait out a transition in progress (stopping, restoring, ...)."""
    target = _TRANSITIONAL.get(vm.status or "")
    if target is None:
        return vm
    return vms.wait_for_status(vm.id, target, timeout=_left(deadline))


def _set_public_ip(
    vms: VirtualMachinesClient, vm: APIVM, wanted: bool, deadline: float
) -> APIVM:
    """Give the VM a public IP or release it, and wait until that is done."""
    moving = ("ATTACHING", "DETACHING")
    if vm.floating_ip_status in moving:
        vm = _wait(
            vms,
            vm.id,
            lambda v: v.floating_ip_status not in moving,
            f"VM {vm.id} finishing a public IP change",
            deadline,
        )
    if bool(vm.public_ip) == wanted:
        return vm

    if vm.status == "HIBERNATED":
        # The public IP can only change on an ACTIVE or SHUTOFF VM; restoring
        # may also bring the old IP back by itself.
        vms.hibernate_restore(vm.id)
        vm = vms.wait_for_status(vm.id, "ACTIVE", timeout=_left(deadline))
        return _set_public_ip(vms, vm, wanted, deadline)

    if wanted:
        vms.attach_public_ip(vm.id)
    else:
        vms.detach_public_ip(vm.id)
    return _wait(
        vms,
        vm.id,
        lambda v: bool(v.public_ip) == wanted and v.floating_ip_status not in moving,
        f"VM {vm.id} {'getting' if wanted else 'releasing'} a public IP",
        deadline,
    )


def _set_power(
    vms: VirtualMachinesClient,
    vm: APIVM,
    wanted: str,
    props: Mapping[str, Any],
    deadline: float,
) -> APIVM:
    """Move a settled VM to `wanted` (ACTIVE, SHUTOFF or HIBERNATED)."""
    if vm.status == wanted:
        return vm
    if vm.status == "ERROR":
        raise ResourceError(
            f"VM {vm.id} ({vm.name}) is in ERROR and cannot be brought to "
            f"{wanted}. Replace it with `pulumi up --replace <urn>`."
        )

    if vm.status == "HIBERNATED":
        vms.hibernate_restore(vm.id)
        vm = vms.wait_for_status(vm.id, "ACTIVE", timeout=_left(deadline))
    elif vm.status == "SHUTOFF" and wanted in ("ACTIVE", "HIBERNATED"):
        vms.start(vm.id)
        vm = vms.wait_for_status(vm.id, "ACTIVE", timeout=_left(deadline))
    if vm.status == wanted:
        return vm

    if wanted == "SHUTOFF":
        vms.stop(vm.id)
    else:
        # Keep the public IP through hibernation when the program asks for one.
        vms.hibernate(vm.id, retain_ip=bool(props.get("assign_floating_ip")))
    return vms.wait_for_status(vm.id, wanted, timeout=_left(deadline))


def _wait(
    vms: VirtualMachinesClient,
    vm_id: int,
    until: Callable[[APIVM], bool],
    what: str,
    deadline: float,
) -> APIVM:
    found = vms.wait_for(
        vm_id,
        lambda v: v is not None and until(v),
        what=what,
        timeout=_left(deadline),
    )
    assert found is not None
    return found


def _owned_rules(props: Mapping[str, Any]) -> dict[RuleSpec, int]:
    """The inline rules recorded in a resource's outputs, with their ids."""
    ids = props.get("security_rule_ids") or []
    return {spec: int(rid) for spec, rid in zip(_rule_specs(props), ids, strict=False)}


def _sync_rules(
    vms: VirtualMachinesClient,
    vm: APIVM,
    specs: Sequence[RuleSpec],
    deadline: float,
    *,
    owned: Mapping[RuleSpec, int] | None = None,
    claim: bool = False,
) -> list[int]:
    """Make the VM's inline rules `specs`; return their ids in order.

    `owned` are the rules this resource made before (from its outputs): only
    those are ever deleted, so the API's default egress rules and the rules of
    `SecurityRule` resources on the same VM are never touched. With `claim`
    (a new or adopted VM), live rules equal to a wanted one are taken as its
    own, as the API makes the inline rules of a create by itself.
    """
    live = {rule.id: RuleSpec.from_api(rule) for rule in vm.security_rules}
    mine = {spec: rid for spec, rid in (owned or {}).items() if rid in live}
    ours = set(mine.values())

    ids: list[int] = []
    created: list[int] = []
    for spec in specs:
        rid = mine.pop(spec, None)
        if rid is None:
            same = [r for r, s in live.items() if s == spec and r not in ours]
            if same and claim:
                rid = same[0]
                ours.add(rid)
            elif same:
                raise ResourceError(
                    f"VM {vm.id} already has the firewall rule {spec.to_props()} "
                    f"as rule {same[0]}, made outside this VM's security_rules (by "
                    "a SecurityRule resource or by hand). Keep the rule in one "
                    "place only."
                )
            else:
                rid = vms.create_security_rule_from(vm.id, spec.to_payload()).id
                created.append(rid)
        ids.append(rid)

    for rid in mine.values():
        with contextlib.suppress(NotFoundError):
            vms.delete_security_rule(vm.id, rid)

    if created:
        _wait(
            vms,
            vm.id,
            lambda v: all(
                r.status == "SUCCESS" for r in v.security_rules if r.id in created
            ),
            f"new firewall rules on VM {vm.id} taking effect",
            deadline,
        )
    return ids


def _delete_and_wait(vms: VirtualMachinesClient, vm_id: int, timeout: float) -> None:
    """Delete a VM and wait until it is gone; a VM already gone is fine.

    The API refuses to delete a VM that is still being created, so such a VM
    is first waited for (within the same timeout) and then deleted.
    """
    deadline = time.monotonic() + timeout
    try:
        vms.delete(vm_id)
    except NotFoundError:
        return
    except BadRequestError:
        vm = vms.wait_for(
            vm_id,
            lambda v: v is None or v.status not in ("CREATING", "BUILD"),
            what=f"VM {vm_id} finishing its creation before it can be deleted",
            timeout=_left(deadline),
        )
        if vm is None:
            return
        try:
            vms.delete(vm_id)
        except NotFoundError:
            return
    vms.wait_until_deleted(vm_id, timeout=_left(deadline))


def _cause(vms: VirtualMachinesClient, vm_id: int, failure: Exception) -> str:
    """Why a new VM failed, with the API's own reason when it gave one."""
    if isinstance(failure, FailedStateError):
        try:
            events = vms.get_events(vm_id)
        except InfrahubError:
            events = []
        failed = [e for e in events if (e.reason or "").endswith("Failed")]
        if failed and failed[-1].message:
            return f"it went into ERROR; the API says: {failed[-1].message}"
        return "it went into ERROR"
    if isinstance(failure, WaitError):
        return f"the create timeout ran out while waiting for {failure.what}"
    return str(failure)


# -- outputs -----------------------------------------------------------------


def _implied_inputs(
    vm: APIVM, props: Mapping[str, Any]
) -> tuple[dict[str, Any], list[int]]:
    """The inputs a program would need to describe `vm` as it is now, and
    the ids of its inline rules.

    Inputs the API never returns (user_data, profile, create_bootable_volume,
    volume_name, timeouts, adopt_id) are carried over from `props`. Inline
    rules are the live rules whose ids this resource recorded.
    """
    inputs: dict[str, Any] = {
        key: props[key] for key in INPUTS + DERIVED if key in props
    }
    for key, default in DEFAULTS.items():
        inputs.setdefault(key, default)

    inputs["name"] = vm.name
    if vm.environment is not None and vm.environment.name:
        inputs["environment_name"] = vm.environment.name
        if vm.environment.region:
            inputs["region"] = vm.environment.region
    if vm.flavor is not None and vm.flavor.name:
        inputs["flavor_name"] = vm.flavor.name
        inputs["gpu"] = vm.flavor.gpu or ""
        inputs["gpu_count"] = vm.flavor.gpu_count or 0
    if vm.image is not None and vm.image.name:
        inputs["image_name"] = vm.image.name
    if vm.keypair is not None and vm.keypair.name:
        inputs["key_name"] = vm.keypair.name
    if vm.port_randomization is not None:
        inputs["enable_port_randomization"] = vm.port_randomization

    inputs["labels"] = sorted(set(vm.labels))
    if vm.callback_url:
        inputs["callback_url"] = vm.callback_url
    else:
        inputs.pop("callback_url", None)
    inputs["assign_floating_ip"] = (
        bool(vm.public_ip) or vm.floating_ip_status == "ATTACHING"
    )
    status = vm.status or ""
    if status in POWER_STATES:
        inputs["power_state"] = status
    elif status in _TRANSITIONAL:
        inputs["power_state"] = _TRANSITIONAL[status]

    live = {rule.id: RuleSpec.from_api(rule) for rule in vm.security_rules}
    pairs = sorted(
        (
            (spec, rid)
            for rid in _owned_rules(props).values()
            if (spec := live.get(rid)) is not None
        ),
        key=lambda pair: pair[0].sort_key(),
    )
    inputs["security_rules"] = [spec.to_props() for spec, _ in pairs]
    return inputs, [rid for _, rid in pairs]


def _outputs(
    inputs: Mapping[str, Any], vm: APIVM, rule_ids: Sequence[int]
) -> dict[str, Any]:
    """Every input, echoed for policies, plus what the API computed."""
    outs = {key: value for key, value in inputs.items() if key != "__provider"}
    flavor = vm.flavor
    outs.update(
        id=vm.id,
        status=vm.status,
        vm_state=vm.vm_state,
        vm_power_state=vm.power_state,
        fixed_ip=vm.fixed_ip,
        floating_ip=vm.public_ip,
        floating_ip_status=vm.floating_ip_status,
        cpu=flavor.cpu if flavor else None,
        ram=flavor.ram if flavor else None,
        disk=flavor.disk if flavor else None,
        created_at=vm.created_at.isoformat() if vm.created_at else None,
        security_rule_ids=list(rule_ids),
        volume_attachment_ids=[a.id for a in vm.volume_attachments if a.id is not None],
    )
    if flavor is not None:
        outs["gpu"] = flavor.gpu or ""
        outs["gpu_count"] = flavor.gpu_count or 0
    if vm.environment is not None and vm.environment.region:
        outs["region"] = vm.environment.region
    return outs


# -- the resource ------------------------------------------------------------


@dataclass(kw_only=True)
class VirtualMachineArgs:
    """The inputs of a `VirtualMachine`. Changing a field marked *replaces*
    makes a new VM; every other field changes in place."""

    environment_name: pulumi.Input[str]
    """Environment to create the VM in, by name; its region is where the VM
    runs. *Replaces.*"""

    flavor_name: pulumi.Input[str]
    """Hardware size, e.g. `n3-A100x1`; see `get_flavors()`. *Replaces*
    (resize is disabled on the API)."""

    key_name: pulumi.Input[str]
    """SSH keypair in the environment, by name. *Replaces.*"""

    name: pulumi.Input[str] | None = None
    """VM name, at most 50 characters. Left out, it is the resource name plus
    a random suffix, and a replacement gets a new one. *Replaces.*"""

    image_name: pulumi.Input[str] | None = None
    """OS image in the environment's region, by name; required unless the VM
    boots from `volume_name`. *Replaces.*"""

    volume_name: pulumi.Input[str] | None = None
    """An existing, available volume to boot from (and keep attached).
    *Replaces.*"""

    create_bootable_volume: pulumi.Input[bool] | None = None
    """Boot from a new volume made from `image_name`. *Replaces.*"""

    user_data: pulumi.Input[str] | None = None
    """cloud-init user data; stored as a secret. *Replaces.*"""

    callback_url: pulumi.Input[str] | None = None
    """http(s) URL the API posts this VM's events to (at most 250
    characters)."""

    assign_floating_ip: pulumi.Input[bool] | None = None
    """Give the VM a public IP; create waits until it has one."""

    enable_port_randomization: pulumi.Input[bool] | None = None
    """Randomise the public ports (the API's default: true). *Replaces.*"""

    labels: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    """Labels on the VM; order does not matter."""

    security_rules: pulumi.Input[Sequence[pulumi.Input[Mapping[str, Any]]]] | None = (
        None
    )
    """Firewall rules managed with the VM, each a map of direction, protocol,
    remote_ip_prefix and optionally ethertype, port_range_min and
    port_range_max. Added and removed in place."""

    profile: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    """Save the create settings as a provisioning profile: `name` (at most 50)
    and `description` (at most 150). Used at creation only."""

    power_state: pulumi.Input[str] | None = None
    """`ACTIVE` (default), `SHUTOFF` or `HIBERNATED`."""

    timeouts: pulumi.Input[Mapping[str, pulumi.Input[float]]] | None = None
    """Seconds allowed for `create`, `update` and `delete` (defaults 1800,
    1800, 1200). Pulumi's customTimeouts do not reach dynamic providers."""

    adopt_id: pulumi.Input[int | str] | None = None
    """Id of an existing VM to take over instead of creating one."""


class VirtualMachine(pulumi.dynamic.Resource, module="infrahub", name="VirtualMachine"):
    """One Hyperstack VM.

    `pulumi up` returns once the VM is usable: ACTIVE (or the requested power
    state) with its public IP when one was asked for. A VM that fails or
    times out is deleted before the error is reported.
    """

    name: pulumi.Output[str]
    """The VM's name."""
    environment_name: pulumi.Output[str]
    """The environment the VM runs in, by name."""
    flavor_name: pulumi.Output[str]
    """The flavor (hardware size), by name, e.g. `n3-A100x1`."""
    key_name: pulumi.Output[str]
    """The SSH keypair the VM was created with, by name."""
    image_name: pulumi.Output[str | None]
    """The OS image the VM was created from, by name; None when none was given
    (the VM boots from `volume_name`)."""
    volume_name: pulumi.Output[str | None]
    """The existing volume the VM boots from, by name; None when it boots from
    an image. Kept as the program gave it: the API does not return it."""
    create_bootable_volume: pulumi.Output[bool]
    """Whether the VM boots from a new volume made from `image_name`. Kept as
    the program gave it: the API does not return it."""
    user_data: pulumi.Output[str | None]
    """The cloud-init user data, as a secret."""
    callback_url: pulumi.Output[str | None]
    """The URL the API posts this VM's events to; None when there is none."""
    assign_floating_ip: pulumi.Output[bool]
    """Whether the VM has a public IP, or is getting one (`floating_ip_status`
    `ATTACHING`)."""
    enable_port_randomization: pulumi.Output[bool]
    """Whether the VM's public ports are randomised, as the API reports it; it
    matters only when the VM has a public IP."""
    labels: pulumi.Output[list[str]]
    """The VM's labels, sorted, each once."""
    security_rules: pulumi.Output[list[dict[str, Any]]]
    """The inline firewall rules, sorted, in normal form: direction and
    protocol lower case, ethertype `IPv4` or `IPv6`, remote_ip_prefix as a
    canonical network. The API's default egress rules and the rules of
    `SecurityRule` resources are not among them."""
    profile: pulumi.Output[dict[str, str] | None]
    """The provisioning profile the create settings were saved as (`name` and
    `description`); None when none was asked for. Kept as the program gave
    it: the API does not return it."""
    power_state: pulumi.Output[str]
    """The requested power state: ACTIVE, SHUTOFF or HIBERNATED."""
    timeouts: pulumi.Output[dict[str, float] | None]
    """Seconds allowed per operation, as given; None for the defaults (1800
    for create and update, 1200 for delete)."""
    adopt_id: pulumi.Output[int | None]
    """Id of the existing VM this resource took over; None when it made its
    own."""
    gpu: pulumi.Output[str]
    """GPU model of the flavor, `""` for CPU-only flavors."""
    gpu_count: pulumi.Output[int]
    """GPUs in the flavor."""
    region: pulumi.Output[str]
    """Region of the VM's environment."""
    status: pulumi.Output[str]
    """The API's status: ACTIVE, SHUTOFF, HIBERNATED, ERROR, ..."""
    vm_state: pulumi.Output[str | None]
    """The API's lower-case VM state (`active`, `stopped`, ...)."""
    vm_power_state: pulumi.Output[str | None]
    """The API's power state (`RUNNING`, `SHUTDOWN`, ...)."""
    fixed_ip: pulumi.Output[str | None]
    """Private IP address."""
    floating_ip: pulumi.Output[str | None]
    """Public IP address, when the VM has one."""
    floating_ip_status: pulumi.Output[str | None]
    """The API's public IP state, upper case: `NO FLOATING IP` (with spaces)
    when there is none, `ATTACHING` or `DETACHING` while it changes."""
    cpu: pulumi.Output[int]
    """CPUs of the flavor."""
    ram: pulumi.Output[float]
    """RAM of the flavor in GB."""
    disk: pulumi.Output[int]
    """Root disk of the flavor in GB."""
    created_at: pulumi.Output[str]
    """When the VM was created, as an ISO 8601 timestamp."""
    security_rule_ids: pulumi.Output[list[int]]
    """Ids of the inline `security_rules`, in the same order."""
    volume_attachment_ids: pulumi.Output[list[int]]
    """Ids of every volume attachment on the VM."""

    def __init__(
        self,
        resource_name: str,
        args: VirtualMachineArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        """Create a VM named `resource_name` in Pulumi from `args`, or from
        the same fields given as keyword arguments."""
        if args is None:
            args = VirtualMachineArgs(**kwargs)
        elif kwargs:
            raise TypeError("pass either args or keyword arguments, not both")

        props: dict[str, Any] = {
            key: getattr(args, key) for key in INPUTS if key != "name_prefix"
        }
        if args.name is None:
            props["name_prefix"] = resource_name
        if args.user_data is not None:
            # Secret as an input too, so it is encrypted in the state's inputs.
            props["user_data"] = pulumi.Output.secret(args.user_data)
        for key in DERIVED + OUTPUTS:
            props.setdefault(key, None)
        super().__init__(
            VirtualMachineProvider(),
            resource_name,
            props,
            merge_options(opts, secret_outputs=["user_data"]),
        )

    @staticmethod
    def get(
        resource_name: str,
        id_: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> VirtualMachine:
        """The existing VM with id `id_`, read-only."""
        return existing(
            VirtualMachine,
            VirtualMachineProvider(),
            resource_name,
            id_,
            INPUTS + DERIVED + OUTPUTS,
            opts,
        )
