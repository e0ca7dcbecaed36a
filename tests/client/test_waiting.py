from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pytest

from pulumi_infrahub.client import (
    FailedStateError,
    InfrahubClient,
    PollSchedule,
    SharedPoller,
    WaitTimeoutError,
    waiting,
)

from .fakes import FakeAPI, error, make_client, ok, vm

VMS = "/core/virtual-machines"


class FakeClock:
    """Time that passes only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(waiting, "_clock", fake.clock)
    monkeypatch.setattr(waiting, "_sleep", fake.sleep)
    return fake


def listing(
    statuses: Callable[[int], dict[int, str]],
) -> Callable[[httpx.Request], httpx.Response]:
    """A VM list whose statuses depend on how many lists were served."""
    served = [0]
    lock = threading.Lock()

    def answer(request: httpx.Request) -> httpx.Response:
        with lock:
            served[0] += 1
            number = served[0]
        time.sleep(0.002)  # long enough for concurrent waits to overlap
        items = [vm(i, f"vm-{i}", s) for i, s in statuses(number).items()]
        return ok(instances=items)

    return answer


def test_schedule_polls_every_second_early_then_backs_off_to_the_cap(
    api: FakeAPI, fake_time: FakeClock
) -> None:
    api.on("GET", VMS, listing(lambda n: {1: "ACTIVE" if n > 30 else "BUILD"}))
    client = make_client(api, poll_schedule=PollSchedule())

    client.virtual_machines.wait_until_active(1, timeout=600)

    early = [
        s
        for s, t in zip(fake_time.sleeps, _running_sum(fake_time.sleeps), strict=True)
        if t <= 20
    ]
    assert early and all(s == pytest.approx(1.0) for s in early)
    assert max(fake_time.sleeps) == pytest.approx(5.0)
    later = fake_time.sleeps[len(early) :]
    assert later == sorted(later)
    assert len(api.sent) == 31


def test_timeout_raises_with_the_last_state(api: FakeAPI, fake_time: FakeClock) -> None:
    api.on("GET", VMS, ok(instances=[vm(1, "a", "BUILD", power_state=None)]))
    client = make_client(api, poll_schedule=PollSchedule())

    with pytest.raises(WaitTimeoutError) as caught:
        client.virtual_machines.wait_until_active(1, timeout=30)

    assert "VM 1 becoming ACTIVE: still BUILD" in str(caught.value)
    assert "after 30 s" in str(caught.value)
    assert fake_time.now == pytest.approx(30.0)
    assert caught.value.last is not None and caught.value.last.status == "BUILD"


def test_vm_in_error_ends_the_wait(api: FakeAPI, client: InfrahubClient) -> None:
    api.on(
        "GET",
        VMS,
        ok(instances=[vm(1, "a", "BUILD")]),
        ok(instances=[vm(1, "a", "ERROR")]),
    )

    with pytest.raises(FailedStateError, match=r"VM 1 \(a\) went into ERROR"):
        client.virtual_machines.wait_until_active(1, timeout=5)


def test_waiting_for_error_itself_is_allowed(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("GET", VMS, ok(instances=[vm(1, "a", "ERROR")]))

    found = client.virtual_machines.wait_for_status(1, {"ACTIVE", "ERROR"}, timeout=5)

    assert found.status == "ERROR"


def test_public_ip_wait_continues_until_the_ip_shows(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on(
        "GET",
        VMS,
        ok(instances=[vm(1, "a", "ACTIVE", floating_ip=None)]),
        ok(instances=[vm(1, "a", "ACTIVE", floating_ip="")]),
        ok(instances=[vm(1, "a", "ACTIVE", floating_ip="203.0.113.7")]),
    )

    found = client.virtual_machines.wait_until_active(1, public_ip=True, timeout=5)

    assert found.public_ip == "203.0.113.7"
    assert len(api.sent) == 3


def test_vm_missing_from_a_list_of_pages_is_confirmed_before_it_counts_as_gone(
    api: FakeAPI, client: InfrahubClient
) -> None:
    # A full page: the list spans pages, which can skip an item that moves.
    others = [vm(i, f"other-{i}", "ACTIVE") for i in range(100, 200)]
    api.on("GET", VMS, ok(instances=others))
    api.on(
        "GET",
        f"{VMS}/1",
        ok(instance=vm(1, "a", "DELETING")),
        error(404, "VM 1 does not exists.", "not_found"),
    )

    client.virtual_machines.wait_until_deleted(1, timeout=5)

    assert len(api.requests_to("GET", f"{VMS}/1")) == 2


def test_vm_missing_from_a_one_page_list_is_gone_without_a_read_of_its_own(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("GET", VMS, ok(instances=[vm(2, "b", "ACTIVE")]))

    client.virtual_machines.wait_until_deleted(1, timeout=5)

    assert api.requests_to("GET", f"{VMS}/1") == []
    assert len(api.requests_to("GET", VMS)) == 1


def test_vm_that_vanishes_while_awaited_fails_the_wait(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("GET", VMS, ok(instances=[]))
    api.on("GET", f"{VMS}/1", error(404, "VM 1 does not exists.", "not_found"))

    with pytest.raises(FailedStateError, match="no longer exists"):
        client.virtual_machines.wait_until_active(1, timeout=5)


def test_concurrent_waits_share_their_list_requests(api: FakeAPI) -> None:
    fleet = range(1, 17)
    ready_at = time.monotonic() + 0.12

    def statuses(_: int) -> dict[int, str]:
        ready = time.monotonic() >= ready_at
        return {i: "ACTIVE" if ready else "BUILD" for i in fleet}

    api.on("GET", VMS, listing(statuses))
    client = make_client(
        api, poll_schedule=PollSchedule(first=0.02, fast_for=60, maximum=0.02)
    )
    results: dict[int, str | None] = {}

    def wait(vm_id: int) -> None:
        results[vm_id] = client.virtual_machines.wait_until_active(
            vm_id, timeout=10
        ).status

    threads = [threading.Thread(target=wait, args=(i,)) for i in fleet]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == {i: "ACTIVE" for i in fleet}
    # Polling every 20 ms for 120 ms, each wait alone would send about 7
    # lists, 16 waits about 110; shared, the fleet needs about 7 (fewer on a
    # busy machine, where the threads start late).
    assert len(api.sent) <= 16
    assert all(r.path == VMS for r in api.sent)


def test_shared_poller_fetches_once_for_callers_asking_at_the_same_time() -> None:
    started = threading.Event()
    release = threading.Event()
    calls = [0]

    def fetch() -> dict[int, str]:
        calls[0] += 1
        started.set()
        release.wait(5)
        return {1: "ok"}

    poller: SharedPoller[str] = SharedPoller(fetch)
    seen: list[dict[int, str]] = []
    first = threading.Thread(target=lambda: seen.append(dict(poller.snapshot(-1)[1])))
    first.start()
    started.wait(5)
    others = [
        threading.Thread(target=lambda: seen.append(dict(poller.snapshot(-1)[1])))
        for _ in range(5)
    ]
    for thread in others:
        thread.start()
    release.set()
    for thread in [first, *others]:
        thread.join()

    assert calls[0] == 1
    assert seen == [{1: "ok"}] * 6


def test_shared_poller_recovers_when_a_fetch_fails() -> None:
    answers: list[Exception | dict[int, str]] = [RuntimeError("boom"), {1: "ok"}]

    def fetch() -> dict[int, str]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    poller: SharedPoller[str] = SharedPoller(fetch)

    with pytest.raises(RuntimeError):
        poller.snapshot(-1)
    _, objects = poller.snapshot(-1)

    assert objects == {1: "ok"}


def test_volume_wait_reads_lower_case_statuses(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on(
        "GET",
        "/core/volumes",
        ok(volumes=[{"id": 3, "name": "d", "status": "creating"}]),
        ok(volumes=[{"id": 3, "name": "d", "status": "available"}]),
    )

    volume = client.volumes.wait_for_status(3, timeout=5)

    assert volume.status == "available"


def test_volume_in_error_ends_the_wait(api: FakeAPI, client: InfrahubClient) -> None:
    api.on(
        "GET", "/core/volumes", ok(volumes=[{"id": 3, "name": "d", "status": "error"}])
    )

    with pytest.raises(FailedStateError, match="volume 3 \\(d\\) is error"):
        client.volumes.wait_for_status(3, timeout=5)


def test_schedule_rejects_a_cap_below_the_first_interval() -> None:
    with pytest.raises(Exception, match="first <= maximum"):
        PollSchedule(first=2, maximum=1)


def _running_sum(values: list[float]) -> list[float]:
    total, out = 0.0, []
    for value in values:
        total += value
        out.append(total)
    return out


def test_vm_missing_from_a_one_page_list_while_awaited_active_is_read_on_its_own(
    api: FakeAPI, client: InfrahubClient
) -> None:
    # A list that lags behind the API may not show a VM made a moment ago.
    api.on("GET", VMS, ok(instances=[]), ok(instances=[vm(1, "a", "ACTIVE")]))
    api.on("GET", f"{VMS}/1", ok(instance=vm(1, "a", "BUILD")))

    found = client.virtual_machines.wait_until_active(1, timeout=5)

    assert found.status == "ACTIVE"
    assert len(api.requests_to("GET", f"{VMS}/1")) == 1
