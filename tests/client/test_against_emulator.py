"""The client against the in-process emulator, over a real loopback socket.

The emulator (started by the shared `emulator` fixture, all delays zero and
its rate limit off) is written from the API's description, not from this
client, so these tests catch mistakes the two could otherwise share. The
client's backoff is zero and its own rate limit off: the tests are about
what is sent and answered, not about pacing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pulumi_infrahub.client import (
    AuthenticationError,
    BadRequestError,
    FailedStateError,
    InfrahubClient,
    NotFoundError,
    PollSchedule,
    RateLimiter,
    RateLimitError,
    RetryPolicy,
    _base,
)
from pulumi_infrahub.client.models import Flavor, Image, VirtualMachine
from pulumi_infrahub.emulator import DEMO_ENVIRONMENT, DEMO_KEYPAIR, DEMO_REGION
from pulumi_infrahub.emulator.faults import Faults
from pulumi_infrahub.emulator.settings import Delays
from pulumi_infrahub.emulator.testing import RunningEmulator

PUBLIC_KEY = (
    "ssh-ed25519 "
    "AAAAC3NzaC1lZDI1NTE5AAAAIHz8MDvQ0V8Jp3C0yS3N2fY5C0aPq4w8lq8Q0a0b0c0d team"
)
FAST = PollSchedule(first=0.01, fast_for=60, maximum=0.05)
# Zero backoff: retries are counted here, not timed.
RETRY = RetryPolicy(attempts=3, backoff=0.0, jitter=0.0)


def connect(emulator: RunningEmulator, api_key: str | None = None) -> InfrahubClient:
    return InfrahubClient(
        api_key or emulator.api_key,
        emulator.base_url,
        retry=RETRY,
        rate_limiter=RateLimiter(requests_per_minute=math.inf),
        poll_schedule=FAST,
        timeout=10.0,
    )


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[InfrahubClient]:
    with connect(emulator) as infrahub:
        yield infrahub


@pytest.fixture
def cpu_flavor(client: InfrahubClient) -> Flavor:
    flavors = client.flavors.get_all(region=DEMO_REGION)
    return next(
        f
        for f in flavors
        if not f.gpu_count
        and f.stock_available is not False
        and not (f.features or {}).get("no_hibernation")
    )


@pytest.fixture
def image(client: InfrahubClient) -> Image:
    return next(
        i for i in client.images.get_all(region=DEMO_REGION) if "Ubuntu" in i.name
    )


@pytest.fixture
def make_vm(
    client: InfrahubClient, cpu_flavor: Flavor, image: Image
) -> Callable[..., VirtualMachine]:
    def make(name: str, **extra: Any) -> VirtualMachine:
        [vm] = client.virtual_machines.create(
            name,
            environment_name=DEMO_ENVIRONMENT,
            flavor_name=cpu_flavor.name,
            key_name=DEMO_KEYPAIR,
            image_name=image.name,
            **extra,
        )
        return vm

    return make


def test_vm_lifecycle_from_create_to_gone(
    client: InfrahubClient, make_vm: Callable[..., VirtualMachine]
) -> None:
    vms = client.virtual_machines
    made = make_vm("life", assign_floating_ip=True, labels=["a"])

    active = vms.wait_until_active(made.id, public_ip=True, timeout=10)
    vms.stop(made.id)
    stopped = vms.wait_for_status(made.id, "SHUTOFF", timeout=10)
    vms.start(made.id)
    vms.wait_until_active(made.id, timeout=10)
    vms.hibernate(made.id, retain_ip=True)
    hibernated = vms.wait_for_status(made.id, "HIBERNATED", timeout=10)
    vms.hibernate_restore(made.id)
    restored = vms.wait_until_active(made.id, timeout=10)
    vms.delete(made.id)
    vms.wait_until_deleted(made.id, timeout=10)

    assert made.status == "CREATING"
    assert (active.status, active.vm_state, active.power_state) == (
        "ACTIVE",
        "active",
        "RUNNING",
    )
    assert active.public_ip
    assert active.labels == ["a"]
    assert stopped.power_state == "SHUTDOWN"
    assert hibernated.status == "HIBERNATED"
    assert restored.status == "ACTIVE"
    with pytest.raises(NotFoundError):
        vms.get(made.id)


def test_action_in_the_wrong_state_is_a_bad_request(
    client: InfrahubClient, make_vm: Callable[..., VirtualMachine]
) -> None:
    made = make_vm("busy")
    client.virtual_machines.wait_until_active(made.id, timeout=10)

    with pytest.raises(BadRequestError) as caught:
        client.virtual_machines.start(made.id)

    assert caught.value.status == 400
    assert caught.value.error_reason == "bad_request"
    assert caught.value.path == f"/core/virtual-machines/{made.id}/start"


def test_labels_rules_and_callbacks_change_in_place(
    client: InfrahubClient, make_vm: Callable[..., VirtualMachine]
) -> None:
    vms = client.virtual_machines
    made = make_vm("edits")
    vms.wait_until_active(made.id, timeout=10)

    vms.set_labels(made.id, ["x", "y"])
    rule = vms.create_security_rule(
        made.id,
        direction="ingress",
        protocol="tcp",
        remote_ip_prefix="0.0.0.0/0",
        port_range_min=22,
        port_range_max=22,
    )
    settled = vms.wait_for(
        made.id,
        lambda vm: (
            vm is not None
            and any(
                r.id == rule.id and r.status == "SUCCESS" for r in vm.security_rules
            )
        ),
        what="rule settling",
        timeout=10,
    )
    url = vms.attach_callback(made.id, "https://hooks.example/a")
    vms.delete_security_rule(made.id, rule.id)
    after = vms.get(made.id)

    assert settled is not None and settled.labels == ["x", "y"]
    assert url == "https://hooks.example/a"
    assert rule.id not in {r.id for r in after.security_rules}
    assert after.callback_url == "https://hooks.example/a"


def test_volume_attach_and_detach(
    client: InfrahubClient, make_vm: Callable[..., VirtualMachine]
) -> None:
    made = make_vm("with-disk")
    [volume_type] = client.volumes.get_types()[:1]
    volume = client.volumes.create(
        "disk", environment_name=DEMO_ENVIRONMENT, size=10, volume_type=volume_type
    )
    client.virtual_machines.wait_until_active(made.id, timeout=10)
    client.volumes.wait_for_status(volume.id, "available", timeout=10)

    [attachment] = client.virtual_machines.attach_volumes(made.id, [volume.id])
    with pytest.raises(BadRequestError):
        client.volumes.delete(volume.id)
    client.virtual_machines.detach_volumes(made.id, [volume.id])
    client.volumes.wait_for(
        volume.id,
        lambda v: v is not None and not v.attachments,
        what="volume detaching",
        timeout=10,
    )
    client.volumes.delete(volume.id)
    client.volumes.wait_until_deleted(volume.id, timeout=10)

    assert volume.status == "creating"
    assert attachment.volume_id == volume.id
    assert attachment.status == "ATTACHING"


def test_paging_walks_every_page(
    client: InfrahubClient,
    make_vm: Callable[..., VirtualMachine],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = [make_vm(f"page-{n}") for n in range(5)]
    monkeypatch.setattr(_base, "PAGE_SIZE", 2)

    second = client.virtual_machines.get_list(page=2, page_size=2)
    everything = client.virtual_machines.get_all()

    assert len(second.items) == 2
    assert [vm.id for vm in everything] == [vm.id for vm in made]


def test_get_by_name_finds_only_the_exact_name(
    client: InfrahubClient, make_vm: Callable[..., VirtualMachine]
) -> None:
    make_vm("web-10")
    wanted = make_vm("web-1")

    found = client.virtual_machines.get_by_name("web-1", environment=DEMO_ENVIRONMENT)

    assert found is not None and found.id == wanted.id


def test_wrong_key_is_refused(emulator: RunningEmulator) -> None:
    stranger = connect(emulator, "not-a-key")

    with stranger, pytest.raises(AuthenticationError) as caught:
        stranger.virtual_machines.get_all()

    assert caught.value.status == 401
    assert "not-a-key" not in str(caught.value)


def test_tenants_cannot_see_each_other(
    emulator: RunningEmulator, make_vm: Callable[..., VirtualMachine]
) -> None:
    mine = make_vm("private")

    with connect(emulator, emulator.other_api_key) as other:
        with pytest.raises(NotFoundError):
            other.virtual_machines.get(mine.id)
        assert other.virtual_machines.get_by_name("private") is None


def test_create_after_a_dropped_connection_makes_one_vm(
    emulator: RunningEmulator,
    client: InfrahubClient,
    make_vm: Callable[..., VirtualMachine],
) -> None:
    emulator.admin.set_faults(Faults(drop_after_create=1))

    adopted = make_vm("dropped")

    same_name = [vm for vm in client.virtual_machines.get_all() if vm.name == "dropped"]
    assert [vm.id for vm in same_name] == [adopted.id]
    posts = [
        r
        for r in emulator.admin.requests()
        if r["method"] == "POST" and r["path"].endswith("/core/virtual-machines")
    ]
    assert len(posts) == 1


def test_rate_limit_answers_are_retried(
    emulator: RunningEmulator, client: InfrahubClient
) -> None:
    emulator.admin.set_faults(Faults(rate_limit_burst=2))

    regions = client.regions.get_all()

    assert DEMO_REGION in {r.name for r in regions}
    statuses = [r["status"] for r in emulator.admin.requests()]
    assert statuses[-3:] == [429, 429, 200]


def test_rate_limit_beyond_the_retries_raises(
    emulator: RunningEmulator, client: InfrahubClient
) -> None:
    tries = RETRY.rate_limited_attempts
    emulator.admin.set_faults(Faults(rate_limit_burst=tries))

    with pytest.raises(RateLimitError):
        client.regions.get_all()
    statuses = [r["status"] for r in emulator.admin.requests()]
    assert statuses == [429] * tries


def test_vm_ending_in_error_fails_the_wait(
    emulator: RunningEmulator,
    client: InfrahubClient,
    make_vm: Callable[..., VirtualMachine],
) -> None:
    emulator.admin.set_faults(Faults(vm_error_pattern="broken-*"))
    made = make_vm("broken-1")

    with pytest.raises(FailedStateError, match="went into ERROR"):
        client.virtual_machines.wait_until_active(made.id, timeout=10)


def test_catalog_reads(client: InfrahubClient, cpu_flavor: Flavor) -> None:
    regions = client.regions.get_all()
    protocols = client.protocols.get_all()
    stocks = client.stocks.get_all()
    prices = client.pricebook.get_all()
    gpu_flavors = [f for f in client.flavors.get_all() if f.gpu_count]

    assert {"CANADA-1", "NORWAY-1", "US-1"} <= {r.name for r in regions}
    assert "tcp" in protocols
    assert stocks and all(s.models for s in stocks)
    assert prices and all(p.name for p in prices)
    assert gpu_flavors and all(f.gpu for f in gpu_flavors)
    assert cpu_flavor.region_name == DEMO_REGION


def test_environment_keypair_and_profile_round_trips(client: InfrahubClient) -> None:
    env = client.environments.create("team-env", region="NORWAY-1")
    key = client.keypairs.create(
        "team-key",
        environment_name="team-env",
        public_key=PUBLIC_KEY,
    )
    with pytest.raises(Exception, match="HTTP 405 not_allowed"):
        client.environments.delete(env.id)
    renamed = client.keypairs.rename(key.id, "team-key-2")
    client.keypairs.delete(key.id)
    client.environments.delete(env.id)
    profile = client.profiles.create("small", data={"count": "1"}, description="d")
    fetched = client.profiles.get(profile.id)
    client.profiles.delete(profile.id)

    assert renamed.name == "team-key-2"
    assert client.environments.get_by_name("team-env") is None
    assert fetched.config == {"count": "1"}
    assert client.profiles.get_by_name("small") is None


def test_a_fleet_of_32_waits_with_default_polling_shares_its_requests(
    emulator_factory: Callable[..., RunningEmulator],
) -> None:
    booting = emulator_factory(delays=Delays(boot=2.0, public_ip=1.0))
    fleet = 32
    infrahub = InfrahubClient(
        booting.api_key,
        booting.base_url,
        retry=RetryPolicy(backoff=0.0),
        rate_limiter=RateLimiter(requests_per_minute=math.inf),
    )
    flavor = next(f for f in infrahub.flavors.get_all(region=DEMO_REGION) if not f.gpu)
    image = infrahub.images.get_all(region=DEMO_REGION)[0]
    booting.admin.clear_requests()

    def launch(n: int) -> VirtualMachine:
        [made] = infrahub.virtual_machines.create(
            f"fleet-{n}",
            environment_name=DEMO_ENVIRONMENT,
            flavor_name=flavor.name,
            key_name=DEMO_KEYPAIR,
            image_name=image.name,
            assign_floating_ip=True,
        )
        return infrahub.virtual_machines.wait_until_active(
            made.id, public_ip=True, timeout=60
        )

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=fleet) as pool:
        ready = list(pool.map(launch, range(fleet)))
    elapsed = time.monotonic() - started
    infrahub.close()

    sent = booting.admin.requests()
    lists = [r for r in sent if r["method"] == "GET"]
    assert all(vm.status == "ACTIVE" and vm.public_ip for vm in ready)
    assert len(sent) - len(lists) == fleet
    # One shared list a second at most, plus the first look of each wait:
    # far from one list per VM per second (32 a second).
    assert len(lists) <= elapsed + 2 * fleet / 8
