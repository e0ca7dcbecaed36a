"""examples/gpu-cluster under the real CLI: the flavor comes from the
lookups, every node gets its scratch volume and the shared rules."""

from __future__ import annotations

from .conftest import Emulator, MakeProject
from .test_quickstart import holdings, ingress_rules, live_vm


def test_cluster_takes_the_smallest_flavor_in_stock_and_builds_every_node(
    emulator: Emulator, make_project: MakeProject
) -> None:
    project = make_project(
        "gpu-cluster",
        emulator=emulator,
        config={"nodes": "3", "gpuModel": "H100", "gpusPerNode": "2"},
    )

    project.up()
    outputs = project.outputs()
    held = holdings(emulator)
    preview = project.preview("--expect-no-changes")

    assert outputs["flavor"] == "n3-H100x2"
    assert outputs["gpus"] == 6
    vms = sorted(held["virtual_machines"], key=lambda vm: vm["name"])
    assert [vm["flavor"] for vm in vms] == ["n3-H100x2"] * 3
    assert [bool(vm["floating_ip"]) for vm in vms] == [True, False, False]
    head = vms[0]
    assert outputs["head_ip"] == head["floating_ip"]
    assert outputs["ssh"][0] == f"ssh ubuntu@{head['floating_ip']}"
    assert outputs["ssh"][2] == (
        f"ssh -J ubuntu@{head['floating_ip']} ubuntu@{outputs['private_ips'][2]}"
    )
    for vm in vms:
        rules = ingress_rules(live_vm(emulator, vm["id"]))
        assert sorted((r["protocol"], r["remote_ip_prefix"]) for r in rules) == [
            ("icmp", "10.0.0.0/8"),
            ("tcp", "10.0.0.0/8"),
            ("tcp", "203.0.113.0/24"),
        ]
    attached = sorted(v["attached_to"][0] for v in held["volumes"])
    assert attached == sorted(vm["id"] for vm in vms)
    assert {v["size"] for v in held["volumes"]} == {500}
    assert "10 unchanged" in preview.output


def test_cluster_stops_before_ordering_when_no_flavor_is_in_stock(
    emulator: Emulator, make_project: MakeProject
) -> None:
    # L40s are listed in US-1 but sold out there.
    created = emulator.api(
        "POST", "/core/environments", json={"name": "us-east", "region": "US-1"}
    )
    created.raise_for_status()
    project = make_project(
        "gpu-cluster",
        emulator=emulator,
        config={"environment": "us-east", "gpuModel": "L40"},
    )

    preview = project.preview(check=False)

    assert preview.returncode != 0
    assert "No flavor in US-1 has 1+ L40 GPUs in stock" in preview.output
    assert holdings(emulator)["virtual_machines"] == []
