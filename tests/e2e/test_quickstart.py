"""The quickstart under the real Pulumi CLI, against the emulator in a process
of its own.

Most scenarios chain naturally (create, look again, change in place, replace,
drift, destroy), so they share one stack and one emulator, module-scoped, and
run in file order; each test still states and checks its own step. Adoption
and a VM that ends in ERROR need a fresh emulator each and stand alone.

The shared emulator accepts only a sentinel key, and takes a second to boot
a VM and another to give it a public IP, so that "ready" is really waited for.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import (
    EXAMPLES,
    Emulator,
    MakeProject,
    PulumiProject,
    StartEmulator,
    launch_emulator,
    new_project,
)

QUICKSTART = EXAMPLES / "quickstart"
ADOPTED_VM = Path(__file__).parent / "programs" / "adopted_vm"

SENTINEL_KEY = "e2e-sentinel-api-key-4b7e19d2"

VM_TYPE = "pulumi-python:dynamic/infrahub:VirtualMachine"
VOLUME_TYPE = "pulumi-python:dynamic/infrahub:Volume"
ATTACHMENT_TYPE = "pulumi-python:dynamic/infrahub:VolumeAttachment"
RULE_TYPE = "pulumi-python:dynamic/infrahub:SecurityRule"
OUR_TYPES = (VM_TYPE, VOLUME_TYPE, ATTACHMENT_TYPE, RULE_TYPE)

FIRST_IMAGE = "Ubuntu Server 22.04 LTS R535 CUDA 12.2"
SECOND_IMAGE = "Ubuntu Server 24.04 LTS R570 CUDA 12.8"
DEFAULT_LABELS = ["owner=ml-platform", "team=research"]
SSH_CIDR = "198.51.100.0/24"

QUICKSTART_OUTPUTS = (
    "vm_id",
    "vm_name",
    "flavor",
    "gpu",
    "public_ip",
    "ssh",
    "volume_id",
    "volume_device",
    "ssh_rule_id",
)

# VM actions are GETs on the API, so a request that changes nothing is a GET
# whose path does not end in one of these.
ACTIONS = ("start", "stop", "hard-reboot", "hibernate", "hibernate-restore")


# Talking to the emulator ----------------------------------------------------


def admin(emulator: Emulator, method: str, path: str, **kwargs: Any) -> Any:
    """Calls one of the emulator's `/_emulator/...` endpoints, as the tenant
    of `emulator.api_key`, and returns the parsed answer."""
    root = emulator.base_url.removesuffix("/v1")
    answer = httpx.request(
        method,
        f"{root}/_emulator{path}",
        headers={"api_key": emulator.api_key},
        timeout=30,
        **kwargs,
    )
    answer.raise_for_status()
    return answer.json()


def holdings(emulator: Emulator) -> dict[str, Any]:
    """What the tenant holds: VMs, volumes (with the VMs they are attached
    to) and totals."""
    summary: dict[str, Any] = admin(emulator, "GET", "/summary")
    return summary


def live_vm(emulator: Emulator, vm_id: int | str) -> dict[str, Any]:
    answer = emulator.api("GET", f"/core/virtual-machines/{vm_id}")
    answer.raise_for_status()
    instance: dict[str, Any] = answer.json()["instance"]
    return instance


def vm_exists(emulator: Emulator, vm_id: int | str) -> bool:
    return emulator.api("GET", f"/core/virtual-machines/{vm_id}").status_code != 404


def ingress_rules(instance: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [r for r in instance["security_rules"] if r["direction"] == "ingress"]


def changes_sent(emulator: Emulator) -> list[str]:
    """The requests in the emulator's log that could have changed something."""
    sent = admin(emulator, "GET", "/requests")["requests"]
    return [
        f"{entry['method']} {entry['path']}"
        for entry in sent
        if entry["method"] != "GET" or entry["path"].rsplit("/", 1)[-1] in ACTIONS
    ]


# The shared stack -----------------------------------------------------------


@dataclass
class Deployment:
    """The shared stack, its emulator, and what the first `up` printed."""

    project: PulumiProject
    emulator: Emulator
    first_up: str

    def outputs(self) -> dict[str, Any]:
        return self.project.outputs()

    def in_state(self, type_token: str) -> list[dict[str, Any]]:
        return self.project.resources(type_token)


@pytest.fixture(scope="module")
def deployment(
    pulumi_bin: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """The quickstart, up once, on an emulator of its own."""
    root = tmp_path_factory.mktemp("quickstart")
    emulator = launch_emulator(
        [
            "--no-delays",
            "--boot-delay=1",
            "--public-ip-delay=1",
            "--api-key",
            SENTINEL_KEY,
            # The chain sends a few hundred requests within a minute; the
            # limit has tests of its own.
            "--rate-limit=0",
            "--log-level=info",
        ],
        root / "emulator.log",
        api_key=SENTINEL_KEY,
    )
    try:
        project = new_project(
            pulumi_bin,
            root / "project",
            QUICKSTART,
            emulator=emulator,
            config={"sshCidr": SSH_CIDR},
        )
        first_up = project.up()
        yield Deployment(project, emulator, first_up.output)
    finally:
        emulator.stop()


# The chain, in order --------------------------------------------------------


def test_up_creates_exactly_the_quickstart_objects_with_every_output_set(
    deployment: Deployment,
) -> None:
    outputs = deployment.outputs()
    held = holdings(deployment.emulator)

    assert sorted(outputs) == sorted(QUICKSTART_OUTPUTS)
    assert all(outputs[key] not in (None, "", []) for key in QUICKSTART_OUTPUTS)
    # Printed by the `up` itself: the IP was there when the create returned.
    assert f'public_ip    : "{outputs["public_ip"]}"' in deployment.first_up
    assert outputs["ssh"] == f"ssh ubuntu@{outputs['public_ip']}"
    assert outputs["flavor"] == "n3-A100x1"
    assert outputs["gpu"] == "1 x A100-80G-PCIe"

    [vm] = held["virtual_machines"]
    assert vm["id"] == int(outputs["vm_id"])
    assert vm["name"] == outputs["vm_name"]
    assert vm["status"] == "ACTIVE"
    assert vm["floating_ip"] == outputs["public_ip"]
    assert vm["flavor"] == "n3-A100x1"
    assert sorted(vm["labels"]) == DEFAULT_LABELS
    [volume] = held["volumes"]
    assert volume["id"] == int(outputs["volume_id"])
    assert volume["size"] == 200
    assert volume["attached_to"] == [vm["id"]]
    [rule] = ingress_rules(live_vm(deployment.emulator, vm["id"]))
    assert rule["id"] == int(outputs["ssh_rule_id"])
    assert (rule["protocol"], rule["remote_ip_prefix"]) == ("tcp", SSH_CIDR)
    assert (rule["port_range_min"], rule["port_range_max"]) == (22, 22)
    assert [len(deployment.in_state(token)) for token in OUR_TYPES] == [1, 1, 1, 1]


def test_second_preview_reports_no_changes_and_sends_none(
    deployment: Deployment,
) -> None:
    admin(deployment.emulator, "DELETE", "/requests")

    preview = deployment.project.preview("--expect-no-changes")

    assert "5 unchanged" in preview.output
    assert changes_sent(deployment.emulator) == []


def test_preview_diff_of_an_update_shows_old_and_new_values(
    deployment: Deployment,
) -> None:
    project = deployment.project
    project.config_set("labels", json.dumps(["owner=ml-platform", "team=vision"]))

    preview = project.preview("--diff")

    assert "~ pulumi-python:dynamic/infrahub:VirtualMachine: (update)" in preview.output
    assert '"team=research" => "team=vision"' in preview.output
    assert "(replace)" not in preview.output


def test_label_change_updates_the_vm_in_place(deployment: Deployment) -> None:
    project = deployment.project
    before = deployment.outputs()["vm_id"]
    project.config_set("labels", json.dumps(["owner=ml-platform", "team=vision"]))

    project.up()

    assert deployment.outputs()["vm_id"] == before
    live = live_vm(deployment.emulator, before)
    assert sorted(live["labels"]) == ["owner=ml-platform", "team=vision"]
    [vm] = deployment.in_state(VM_TYPE)
    assert vm["outputs"]["labels"] == ["owner=ml-platform", "team=vision"]


@pytest.mark.parametrize("power_state", ["SHUTOFF", "HIBERNATED", "ACTIVE"])
def test_power_state_changes_in_place(deployment: Deployment, power_state: str) -> None:
    project = deployment.project
    before = deployment.outputs()["vm_id"]
    project.config_set("powerState", power_state)

    up = project.up()

    assert "[diff: ~power_state]" in up.output
    assert deployment.outputs()["vm_id"] == before
    assert live_vm(deployment.emulator, before)["status"] == power_state
    assert len(holdings(deployment.emulator)["virtual_machines"]) == 1


def test_preview_diff_of_a_replacement_names_the_property_that_forces_it(
    deployment: Deployment,
) -> None:
    project = deployment.project
    project.config_set("image", SECOND_IMAGE)

    preview = project.preview("--diff")
    as_json = json.loads(project.preview("--json").stdout)

    header = "+-pulumi-python:dynamic/infrahub:VirtualMachine: (replace)"
    block = preview.output.split(header, 1)[1].split("+-pulumi-python", 1)[0]
    assert f'~ image_name: "{FIRST_IMAGE}" => "{SECOND_IMAGE}"' in block
    [vm_step] = [s for s in as_json["steps"] if s["urn"].endswith("::gpu-box")]
    assert vm_step["op"] == "replace"
    assert vm_step["replaceReasons"] == ["image_name"]


def test_image_change_replaces_the_vm_and_moves_the_volume_to_it(
    deployment: Deployment,
) -> None:
    project = deployment.project
    before = deployment.outputs()
    project.config_set("image", SECOND_IMAGE)

    project.up()

    after = deployment.outputs()
    held = holdings(deployment.emulator)
    assert after["vm_id"] != before["vm_id"]
    assert not vm_exists(deployment.emulator, before["vm_id"])
    [vm] = held["virtual_machines"]
    assert vm["id"] == int(after["vm_id"])
    assert live_vm(deployment.emulator, vm["id"])["image"]["name"] == SECOND_IMAGE
    [volume] = held["volumes"]
    assert volume["id"] == int(before["volume_id"])
    assert volume["attached_to"] == [vm["id"]]
    [rule] = ingress_rules(live_vm(deployment.emulator, vm["id"]))
    assert rule["id"] == int(after["ssh_rule_id"])
    [attachment] = deployment.in_state(ATTACHMENT_TYPE)
    assert attachment["outputs"]["virtual_machine_id"] == vm["id"]
    assert [len(deployment.in_state(token)) for token in OUR_TYPES] == [1, 1, 1, 1]


def test_labels_changed_out_of_band_show_in_refresh_and_up_repairs_them(
    deployment: Deployment,
) -> None:
    project, emulator = deployment.project, deployment.emulator
    vm_id = deployment.outputs()["vm_id"]
    wanted = ["owner=ml-platform", "team=vision"]
    path = f"/drift/virtual-machines/{vm_id}/labels"
    admin(emulator, "POST", path, json={"labels": ["owner=someone-else"]})

    refresh = project.refresh("--diff")
    preview = project.preview("--diff")
    project.up()

    assert '"owner=ml-platform" => "owner=someone-else"' in refresh.output
    assert '"owner=someone-else" => "owner=ml-platform"' in preview.output
    assert '+ [1]: "team=vision"' in preview.output
    assert sorted(live_vm(emulator, vm_id)["labels"]) == wanted
    assert deployment.outputs()["vm_id"] == vm_id
    project.preview("--expect-no-changes")


def test_vm_deleted_out_of_band_leaves_state_on_refresh_and_returns_on_up(
    deployment: Deployment,
) -> None:
    project, emulator = deployment.project, deployment.emulator
    gone = deployment.outputs()["vm_id"]
    admin(emulator, "DELETE", f"/drift/virtual-machines/{gone}")

    project.refresh()
    after_refresh = [len(deployment.in_state(token)) for token in OUR_TYPES]
    project.up()

    # The rule and the attachment went with the VM; the volume stayed.
    assert after_refresh == [0, 1, 0, 0]
    outputs = deployment.outputs()
    assert outputs["vm_id"] != gone
    [vm] = holdings(emulator)["virtual_machines"]
    assert vm["id"] == int(outputs["vm_id"])
    assert vm["status"] == "ACTIVE"
    assert vm["floating_ip"] == outputs["public_ip"]
    [volume] = holdings(emulator)["volumes"]
    assert volume["attached_to"] == [vm["id"]]
    assert [len(deployment.in_state(token)) for token in OUR_TYPES] == [1, 1, 1, 1]
    project.preview("--expect-no-changes")


def test_destroy_empties_the_emulator_and_the_key_shows_nowhere(
    deployment: Deployment,
) -> None:
    project, emulator = deployment.project, deployment.emulator
    exported = project.run("stack", "export").stdout
    printed = project.printed()
    revealed = project.export(show_secrets=True)["deployment"]["resources"]

    # Engine and plugin logs at full detail, on stderr, to be searched too.
    destroy = project.destroy("--logtostderr", "--logflow", "-v=9")

    totals = holdings(emulator)["totals"]
    assert (totals["virtual_machines"], totals["volumes"]) == (0, 0)
    assert project.resources() == []
    assert destroy.stderr.count('"level":') > 100, "no engine log on stderr"
    assert SENTINEL_KEY not in printed + destroy.output
    assert SENTINEL_KEY not in exported
    # Revealed, the key is only in the config Pulumi itself hands the default
    # provider, never in what a resource keeps.
    assert {r["type"] for r in revealed} >= set(OUR_TYPES)
    holding_it = [r["type"] for r in revealed if SENTINEL_KEY in json.dumps(r)]
    assert holding_it == ["pulumi:providers:pulumi-python"]
    assert SENTINEL_KEY not in emulator.log()
    logs = Path(project.env["PULUMI_HOME"]) / "logs"
    assert list(logs.iterdir()), "the CLI wrote no logs to search"
    for log in logs.iterdir():
        assert SENTINEL_KEY not in log.read_text(errors="replace"), log.name


# Standalone scenarios -------------------------------------------------------


def create_vm_by_hand(emulator: Emulator, name: str) -> int:
    """Creates a VM through the API, as someone would in the console, and
    waits until it is ACTIVE with its public IP."""
    answer = emulator.api(
        "POST",
        "/core/virtual-machines",
        json={
            "name": name,
            "environment_name": "demo-environment",
            "flavor_name": "n3-L40x1",
            "image_name": FIRST_IMAGE,
            "key_name": "demo-keypair",
            "count": 1,
            "assign_floating_ip": True,
            "labels": ["owner=ml-platform"],
        },
    )
    answer.raise_for_status()
    vm_id: int = answer.json()["instances"][0]["id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        vm = live_vm(emulator, vm_id)
        if vm["status"] == "ACTIVE" and vm.get("floating_ip"):
            return vm_id
        time.sleep(0.2)
    pytest.fail(f"VM {vm_id} made by hand never became ACTIVE with a public IP")


def test_adopting_an_existing_vm_creates_nothing_and_then_shows_no_changes(
    emulator: Emulator, make_project: MakeProject
) -> None:
    vm_id = create_vm_by_hand(emulator, "legacy-trainer")
    project = make_project(
        ADOPTED_VM,
        emulator=emulator,
        config={"adoptId": str(vm_id)},
    )
    admin(emulator, "DELETE", "/requests")

    project.up()
    sent = changes_sent(emulator)
    preview = project.preview("--expect-no-changes")

    assert sent == [], "adopting should change nothing on the VM"
    assert "2 unchanged" in preview.output
    assert project.outputs()["vm_id"] == str(vm_id)
    [vm] = holdings(emulator)["virtual_machines"]
    assert vm["id"] == vm_id
    [adopted] = project.resources(VM_TYPE)
    assert adopted["id"] == str(vm_id)
    assert adopted["outputs"]["floating_ip"] == vm["floating_ip"]


def test_vm_ending_in_error_fails_up_with_the_api_reason_and_leaves_no_vm(
    start_emulator: StartEmulator, make_project: MakeProject
) -> None:
    reason = "No valid host was found for flavor n3-A100x1"
    emulator = start_emulator(
        "--no-delays", "--vm-error-pattern=broken-*", f"--vm-error-reason={reason}"
    )
    project = make_project(
        QUICKSTART, emulator=emulator, config={"vmName": "broken-gpu-box"}
    )

    failed = project.up(check=False)
    left_after_failure = holdings(emulator)["virtual_machines"]
    project.config_set("vmName", "gpu-box-1")
    project.up()

    assert failed.returncode != 0
    assert reason in failed.output
    assert left_after_failure == []
    [vm] = holdings(emulator)["virtual_machines"]
    assert (vm["name"], vm["status"]) == ("gpu-box-1", "ACTIVE")
    assert project.outputs()["public_ip"] == vm["floating_ip"]
    [volume] = holdings(emulator)["volumes"]
    assert volume["attached_to"] == [vm["id"]]


def test_readme_shows_the_quickstart_program_as_it_is() -> None:
    program = (QUICKSTART / "__main__.py").read_text()
    code = program.split('"""', 2)[2].strip()
    readme = (QUICKSTART.parents[1] / "README.md").read_text()

    assert f"```python\n{code}\n```" in readme
