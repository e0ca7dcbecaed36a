from __future__ import annotations

import httpx
import pytest

from pulumi_infrahub.client import (
    AmbiguousNameError,
    InfrahubClient,
    InvalidArgumentError,
    ResponseLostError,
    ServerError,
)
from pulumi_infrahub.client.models import (
    CustomFlavor,
    ProfileRef,
    SecurityRuleCreate,
    VirtualMachineCreate,
)

from .fakes import FakeAPI, error, ok, vm

VMS = "/core/virtual-machines"
CREATE_ARGS = {
    "environment_name": "default-CANADA-1",
    "flavor_name": "n3-RTX-A6000x1",
    "key_name": "demo-key",
}


def test_create_sends_every_field_and_returns_the_instances(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on(
        "POST",
        VMS,
        ok(instances=[vm(1, "train", "CREATING"), vm(2, "train-2", "CREATING")]),
    )

    made = client.virtual_machines.create(
        "train",
        **CREATE_ARGS,
        image_name="Ubuntu Server 22.04 LTS R535 CUDA 12.2",
        count=2,
        volume_name="data",
        create_bootable_volume=False,
        user_data="#cloud-config",
        callback_url="https://hooks.example/vm",
        assign_floating_ip=True,
        enable_port_randomization=False,
        enhanced_monitoring_enabled=True,
        labels=["team-a"],
        security_rules=[
            SecurityRuleCreate(
                direction="ingress",
                ethertype="IPv4",
                protocol="tcp",
                remote_ip_prefix="0.0.0.0/0",
                port_range_min=22,
                port_range_max=22,
            )
        ],
        profile=ProfileRef(name="gpu-box"),
        flavor=CustomFlavor(cpu=4),
    )

    assert [m.id for m in made] == [1, 2]
    [sent] = api.sent
    assert sent.body == {
        "name": "train",
        "environment_name": "default-CANADA-1",
        "flavor_name": "n3-RTX-A6000x1",
        "key_name": "demo-key",
        "image_name": "Ubuntu Server 22.04 LTS R535 CUDA 12.2",
        "count": 2,
        "volume_name": "data",
        "create_bootable_volume": False,
        "user_data": "#cloud-config",
        "callback_url": "https://hooks.example/vm",
        "assign_floating_ip": True,
        "enable_port_randomization": False,
        "enhanced_monitoring_enabled": True,
        "labels": ["team-a"],
        "security_rules": [
            {
                "direction": "ingress",
                "ethertype": "IPv4",
                "protocol": "tcp",
                "remote_ip_prefix": "0.0.0.0/0",
                "port_range_min": 22,
                "port_range_max": 22,
            }
        ],
        "profile": {"name": "gpu-box"},
        "flavor": {"cpu": 4},
    }


def test_create_leaves_unset_fields_out_and_sends_count_one(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("POST", VMS, ok(instances=[vm(1, "a", "CREATING")]))

    client.virtual_machines.create("a", **CREATE_ARGS)

    assert api.sent[0].body == {"name": "a", "count": 1, **CREATE_ARGS}


def test_create_rejects_a_long_name_before_sending(
    api: FakeAPI, client: InfrahubClient
) -> None:
    with pytest.raises(
        InvalidArgumentError, match="name: String should have at most 50"
    ):
        client.virtual_machines.create("x" * 51, **CREATE_ARGS)

    assert api.sent == []


def test_invalid_user_data_is_not_echoed_in_the_error() -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        VirtualMachineCreate(name="a", **CREATE_ARGS, user_data=["s3cret-token"])  # type: ignore[arg-type]

    assert "user_data" in str(caught.value)
    assert "s3cret-token" not in str(caught.value)


def test_user_data_is_kept_out_of_the_payload_repr() -> None:
    payload = VirtualMachineCreate(name="a", **CREATE_ARGS, user_data="s3cret-token")

    assert "s3cret-token" not in repr(payload)


def test_create_adopts_the_vm_after_the_connection_dropped(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("POST", VMS, httpx.RemoteProtocolError("Server disconnected"))
    api.on(
        "GET",
        VMS,
        ok(instances=[vm(5, "train-long", "CREATING"), vm(4, "train", "BUILD")]),
    )

    [adopted] = client.virtual_machines.create("train", **CREATE_ARGS)

    assert adopted.id == 4
    assert len(api.requests_to("POST", VMS)) == 1
    [lookup] = api.requests_to("GET", VMS)
    assert lookup.query["search"] == "train"
    assert lookup.query["environment"] == "default-CANADA-1"
    assert lookup.query["exact_environment_match"] == "true"


def test_create_adopts_the_vm_after_a_server_error(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("POST", VMS, error(502, "Bad Gateway"))
    api.on("GET", VMS, ok(instances=[vm(4, "train", "CREATING")]))

    [adopted] = client.virtual_machines.create("train", **CREATE_ARGS)

    assert adopted.id == 4
    assert len(api.requests_to("POST", VMS)) == 1


def test_create_raises_the_original_error_when_nothing_was_made(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("POST", VMS, httpx.ReadTimeout("read timed out"))
    api.on("GET", VMS, ok(instances=[]))

    with pytest.raises(ResponseLostError):
        client.virtual_machines.create("train", **CREATE_ARGS)

    assert len(api.requests_to("POST", VMS)) == 1


def test_create_adopts_nothing_when_two_vms_have_the_name(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("POST", VMS, error(500, "Internal Server Error"))
    api.on("GET", VMS, ok(instances=[vm(3, "train"), vm(4, "train", "CREATING")]))

    with pytest.raises(ServerError):
        client.virtual_machines.create("train", **CREATE_ARGS)


def test_create_of_several_adopts_only_a_complete_set(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("POST", VMS, httpx.RemoteProtocolError("Server disconnected"))
    api.on(
        "GET",
        VMS,
        ok(instances=[vm(4, "w-1", "CREATING"), vm(5, "w-2", "CREATING")]),
        ok(instances=[vm(4, "w-1", "CREATING")]),
    )

    made = client.virtual_machines.create("w", **CREATE_ARGS, count=2)
    with pytest.raises(ResponseLostError):
        client.virtual_machines.create("w", **CREATE_ARGS, count=2)

    assert [m.id for m in made] == [4, 5]


def test_get_all_walks_pages_until_a_short_one(
    api: FakeAPI, client: InfrahubClient
) -> None:
    first = [vm(i, f"vm-{i}") for i in range(1, 101)]
    api.on(
        "GET", VMS, ok(instances=first, page=1), ok(instances=[vm(101, "last")], page=2)
    )

    everything = client.virtual_machines.get_all(search="vm")

    assert len(everything) == 101
    assert [r.query["page"] for r in api.sent] == ["1", "2"]
    assert {r.query["pageSize"] for r in api.sent} == {"100"}
    assert {r.query["search"] for r in api.sent} == {"vm"}


def test_get_all_stops_when_the_api_ignores_paging(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("GET", VMS, ok(instances=[vm(i, f"vm-{i}") for i in range(1, 101)]))

    everything = client.virtual_machines.get_all()

    assert len(everything) == 100
    assert len(api.sent) == 2


def test_get_list_returns_one_page_with_its_counts(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("GET", VMS, ok(instances=[vm(3, "c")], count=3, page=2, page_size=1))

    page = client.virtual_machines.get_list(
        page=2, page_size=1, exclude_firewalls=[8, 9]
    )

    assert [v.id for v in page.items] == [3]
    assert (page.count, page.page, page.page_size) == (3, 2, 1)
    assert api.sent[0].params == {
        "page": ["2"],
        "pageSize": ["1"],
        "exclude_firewalls": ["8", "9"],
    }


def test_get_by_name_needs_the_exact_name(api: FakeAPI, client: InfrahubClient) -> None:
    api.on("GET", VMS, ok(instances=[vm(1, "web-10"), vm(2, "web-1")]))

    found = client.virtual_machines.get_by_name("web-1")
    missing = client.virtual_machines.get_by_name("web")

    assert found is not None and found.id == 2
    assert missing is None


def test_get_by_name_refuses_to_guess_between_two(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("GET", VMS, ok(instances=[vm(1, "web"), vm(2, "web")]))

    with pytest.raises(AmbiguousNameError, match="ids 1, 2"):
        client.virtual_machines.get_by_name("web")


@pytest.mark.parametrize(
    ("call", "method", "suffix"),
    [
        ("start", "GET", "start"),
        ("stop", "GET", "stop"),
        ("hard_reboot", "GET", "hard-reboot"),
        ("hibernate_restore", "GET", "hibernate-restore"),
        ("attach_public_ip", "POST", "attach-floatingip"),
        ("detach_public_ip", "POST", "detach-floatingip"),
        ("delete_callback", "DELETE", "delete-callback"),
    ],
)
def test_actions_use_the_api_method_and_path(
    api: FakeAPI, client: InfrahubClient, call: str, method: str, suffix: str
) -> None:
    api.on(method, f"{VMS}/7/{suffix}", ok())

    getattr(client.virtual_machines, call)(7)

    [sent] = api.sent
    assert (sent.method, sent.path, sent.body) == (method, f"{VMS}/7/{suffix}", None)


def test_hibernate_sends_retain_ip(api: FakeAPI, client: InfrahubClient) -> None:
    api.on("GET", f"{VMS}/7/hibernate", ok())

    client.virtual_machines.hibernate(7, retain_ip=True)
    client.virtual_machines.hibernate(7)

    assert [r.query["retain_ip"] for r in api.sent] == ["true", "false"]


def test_set_labels_replaces_the_list(api: FakeAPI, client: InfrahubClient) -> None:
    api.on("PUT", f"{VMS}/7/label", ok())

    client.virtual_machines.set_labels(7, ["a", "b"])

    assert api.sent[0].body == {"labels": ["a", "b"]}


def test_callbacks_send_the_url_and_return_the_answer(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("POST", f"{VMS}/7/attach-callback", ok(url="https://a.example/x"))
    api.on("PUT", f"{VMS}/7/update-callback", ok(url="https://b.example/y"))

    attached = client.virtual_machines.attach_callback(7, "https://a.example/x")
    updated = client.virtual_machines.update_callback(7, "https://b.example/y")

    assert (attached, updated) == ("https://a.example/x", "https://b.example/y")
    assert [r.body for r in api.sent] == [
        {"url": "https://a.example/x"},
        {"url": "https://b.example/y"},
    ]


def test_attach_volumes_returns_the_attachments(
    api: FakeAPI, client: InfrahubClient
) -> None:
    attachment = {"id": 9, "instance_id": 7, "volume_id": 3, "status": "ATTACHING"}
    api.on("POST", f"{VMS}/7/attach-volumes", ok(volume_attachments=[attachment]))

    [made] = client.virtual_machines.attach_volumes(7, [3], protected=True)

    assert (made.id, made.status) == (9, "ATTACHING")
    assert api.sent[0].body == {"volume_ids": [3], "protected": True}


def test_attach_volumes_adopts_the_attachments_after_a_lost_answer(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("POST", f"{VMS}/7/attach-volumes", httpx.ReadTimeout("timed out"))
    attached = {"id": 9, "status": "ATTACHING", "volume": {"id": 3, "name": "data"}}
    api.on("GET", f"{VMS}/7", ok(instance=vm(7, "a", volume_attachments=[attached])))

    [made] = client.virtual_machines.attach_volumes(7, [3])

    assert made.id == 9
    assert len(api.requests_to("POST", f"{VMS}/7/attach-volumes")) == 1


def test_detach_volumes_counts_as_done_when_nothing_remains(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("POST", f"{VMS}/7/detach-volumes", error(504, "Gateway Timeout"))
    api.on("GET", f"{VMS}/7", ok(instance=vm(7, "a", volume_attachments=[])))

    assert client.virtual_machines.detach_volumes(7, [3]) == []
    assert api.requests_to("POST", f"{VMS}/7/detach-volumes")[0].body == {
        "volume_ids": [3]
    }


def test_create_security_rule_sends_the_rule(
    api: FakeAPI, client: InfrahubClient
) -> None:
    rule = {"id": 11, "direction": "ingress", "protocol": "tcp", "status": "pending"}
    api.on("POST", f"{VMS}/7/sg-rules", ok(security_rule=rule))

    made = client.virtual_machines.create_security_rule(
        7,
        direction="ingress",
        protocol="tcp",
        remote_ip_prefix="10.0.0.0/8",
        port_range_min=443,
        port_range_max=443,
    )

    assert (made.id, made.status) == (11, "pending")
    assert api.sent[0].body == {
        "direction": "ingress",
        "ethertype": "IPv4",
        "protocol": "tcp",
        "remote_ip_prefix": "10.0.0.0/8",
        "port_range_min": 443,
        "port_range_max": 443,
    }


def test_create_security_rule_adopts_the_newest_matching_rule(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("POST", f"{VMS}/7/sg-rules", error(500, "Internal Server Error"))
    same = {
        "direction": "ingress",
        "ethertype": "IPv4",
        "protocol": "tcp",
        "remote_ip_prefix": "0.0.0.0/0",
        "port_range_min": 22,
        "port_range_max": 22,
    }
    rules = [{"id": 1, **same, "protocol": "udp"}, {"id": 2, **same}, {"id": 5, **same}]
    api.on("GET", f"{VMS}/7", ok(instance=vm(7, "a", security_rules=rules)))

    made = client.virtual_machines.create_security_rule(7, **same)  # type: ignore[arg-type]

    assert made.id == 5


def test_security_rule_protocol_must_be_lower_case(
    api: FakeAPI, client: InfrahubClient
) -> None:
    with pytest.raises(InvalidArgumentError, match=r"must be lower case, e\.g\. 'tcp'"):
        client.virtual_machines.create_security_rule(
            7, direction="ingress", protocol="TCP", remote_ip_prefix="0.0.0.0/0"
        )

    assert api.sent == []


def test_delete_security_rule_uses_both_ids(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("DELETE", f"{VMS}/7/sg-rules/11", ok())

    client.virtual_machines.delete_security_rule(7, 11)

    assert api.sent[0].path == f"{VMS}/7/sg-rules/11"


def test_metrics_are_read_without_an_envelope(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on(
        "GET",
        f"{VMS}/7/metrics",
        httpx.Response(
            200,
            json={
                "cpu": {
                    "unit": "ns",
                    "columns": ["time", "granularity", "value"],
                    "data": [["2023-09-01T01:19:00Z", 60, 1041433070000000]],
                },
                "memory.usages": {"unit": "MB", "columns": [], "data": []},
            },
        ),
    )

    metrics = client.virtual_machines.get_metrics(7, duration="1h")

    assert metrics["cpu"].data[0][2] == 1041433070000000
    assert metrics["memory.usages"].unit == "MB"
    assert api.sent[0].query == {"duration": "1h"}


def test_events_are_listed(api: FakeAPI, client: InfrahubClient) -> None:
    event = {"instance_id": 7, "reason": "InstanceCreationRequest", "type": "normal"}
    api.on("GET", f"{VMS}/7/events", ok(instance_events=[event]))

    [got] = client.virtual_machines.get_events(7)

    assert got.reason == "InstanceCreationRequest"


def test_name_availability_sends_count(api: FakeAPI, client: InfrahubClient) -> None:
    api.on(
        "GET",
        f"{VMS}/name-availability/web",
        httpx.Response(
            200, json={"name": "web", "available": False, "message": "taken"}
        ),
    )

    answer = client.virtual_machines.is_name_available("web", count=3)

    assert answer.available is False
    assert api.sent[0].query == {"count": "3"}


def test_resize_reports_that_the_feature_is_disabled(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on(
        "POST",
        f"{VMS}/7/resize",
        error(400, "This feature is currently disabled", "bad_request"),
    )

    with pytest.raises(Exception, match="currently disabled"):
        client.virtual_machines.resize(7, flavor_name="n1-cpu-large")


def test_get_recent_serves_many_vms_from_one_list(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("GET", VMS, ok(instances=[vm(i, f"node-{i}", "ACTIVE") for i in (1, 2, 3)]))

    names = [client.virtual_machines.get_recent(i).name for i in (1, 2, 3, 2)]

    assert names == ["node-1", "node-2", "node-3", "node-2"]
    assert [(r.method, r.path) for r in api.sent] == [("GET", VMS)]


def test_get_recent_reads_a_vm_the_list_lacks_on_its_own(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("GET", VMS, ok(instances=[vm(1, "node-1", "ACTIVE")]))
    api.on("GET", f"{VMS}/9", ok(instance=vm(9, "node-9", "CREATING")))

    found = client.virtual_machines.get_recent(9)

    assert (found.id, found.status) == (9, "CREATING")
    assert [r.path for r in api.sent] == [VMS, f"{VMS}/9"]


def test_get_recent_lists_again_once_the_list_is_older_than_asked(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("GET", VMS, ok(instances=[vm(1, "node-1", "ACTIVE")]))

    client.virtual_machines.get_recent(1)
    client.virtual_machines.get_recent(1, max_age=0)

    assert [r.path for r in api.sent] == [VMS, VMS]
