"""A local emulator of the Infrahub API, for tests, demos and offline stacks.

Start it with `pulumi-infrahub emulator` (the first line it prints is the base
URL, such as `http://127.0.0.1:8080/v1`), or in-process with
`EmulatorServer(EmulatorSettings(...))` or `create_app(settings)`.

Without configured keys it accepts `DEMO_API_KEY`. Every tenant (one per key)
starts with environment `DEMO_ENVIRONMENT` in `DEMO_REGION` and keypair
`DEMO_KEYPAIR`, so a first stack needs nothing else.

Admin endpoints live under `/_emulator/`, a prefix the real API does not use;
`testing.EmulatorAdmin` wraps them:

- `GET /_emulator/health`
- `POST /_emulator/reset`: forget all resources, the request log and faults
  set at run time.
- `GET|PUT|DELETE /_emulator/faults`: the `Faults` in force (PUT replaces
  them; fields left out mean no fault).
- `GET|DELETE /_emulator/requests`: the request log (method, path, query,
  status, body with `user_data` blanked, tenant hash, time; never the key).
- `GET /_emulator/summary` with the tenant's `api_key` header: its VMs,
  volumes, GPUs and hourly cost.
- Out-of-band changes, applied at once, to stage drift:
  `POST /_emulator/drift/virtual-machines/{id}/labels` `{"labels": [...]}`,
  `POST /_emulator/drift/virtual-machines/{id}/stop`,
  `DELETE /_emulator/drift/virtual-machines/{id}`,
  `DELETE /_emulator/drift/volumes/{id}`,
  `DELETE /_emulator/drift/virtual-machines/{id}/sg-rules/{rule_id}`.

Choices made where the real API's behaviour is not known:

- Names. VM names may repeat: a retried create makes a second VM, as the API
  has no idempotency key. With `count` above 1 (at most 20) the VMs are named
  `<name>-1` to `<name>-<count>`. Environment names are unique across the
  tenant's regions; keypair and volume names within an environment; profile
  names within the tenant; a firewall rule identical to one on the VM is a
  duplicate. Duplicates answer 409 `already_exist`.
- Unknown names in a create (environment, flavor or image in the
  environment's region, keypair or volume in the environment) answer 404.
- Paging. Without `page` or `pageSize` the whole list comes back with `page`
  and `page_size` null. With either, the defaults are page 1 and 20 items;
  there is no maximum. `count` is the number of items in the answer. Lists
  are oldest first.
- Timestamps are naive UTC, `2026-01-01T12:00:00`.
- VM states. `vm_state` and `power_state` are null while `CREATING`,
  `building` and null in `BUILD`, `active`/`RUNNING` when `ACTIVE` and while
  `STOPPING` or `HIBERNATING`, `stopped`/`SHUTDOWN` when `SHUTOFF`,
  `shelved_offloaded`/`SHUTDOWN` when `HIBERNATED` or `RESTORING`,
  `error`/`NOSTATE` in `ERROR`; `STARTING`, `REBOOTING` and `DELETING` keep
  the previous values. A deleted VM shows `DELETING` for the delete delay,
  then answers 404; it never shows `DELETED`. Deleting a `DELETING` VM
  answers 200 again.
- Public IP. `floating_ip_status` runs `NO FLOATING IP`, `ATTACHING`,
  `ATTACHED`, `DETACHING`; `port_randomization_status` is `NO_FLOATING_IP`,
  `ENABLED` or `DISABLED`. Without an address `floating_ip` is `""` in a VM
  get and null in lists and creates, as in the vendor's examples.
  `requires_public_ip` echoes whether one was asked for. Attaching when the
  VM already has one is a 400. `retain_ip` takes true/True/1 or
  false/False/0; without it, hibernation releases the address and restore
  assigns a new one.
- Firewall rules can be added and removed when the VM is `ACTIVE`,
  `SHUTOFF`, `HIBERNATED` or on its way between them; while it is
  `CREATING`, `BUILD`, `ERROR` or `DELETING` the answer is 400. The two
  default egress rules are added when the VM turns `ACTIVE`, with the rules
  given at create, and can be deleted like any other. Ports are optional for
  every protocol, from 1 to 65535, min not above max; the prefix is any IPv4
  or IPv6 CIDR.
- Labels can change in any state but `DELETING`. Callbacks are stored and
  shown, never called.
- Volumes stay `available` while attached (the attachment shows in
  `attachments`); a delete shows `deleting` for the delete delay, then the
  volume is gone. A volume still `creating` cannot be deleted. Attachments
  run `ATTACHING`, `ATTACHED`, `DETACHING`, then disappear. A volume attaches
  only to VMs of its own environment; attach is all or nothing. Sizes run
  from 1 to 102,400 GB, and bootable volumes (`image_id`) need 100 GB.
- Requests. Unknown fields are ignored; wrong JSON types and missing fields
  get the `errors` shape; a body that is not JSON gets 400 `bad_request`.
- Keys. A missing and an unknown key get different 401 messages; the header
  name matches in any case, but `api-key` (hyphen) is not the key. Ids are
  global, keys are not scoped to a region.
- Rate limit: one-minute windows per client address; past the limit, 429
  with `status` and `message`, no `error_reason` and no headers.
- GPU stock is shared by all tenants, per region and model; a create beyond
  it answers 400. Flavors list `stock_available` from it.
- Metrics answer four synthetic samples per metric while the VM is
  `ACTIVE`, 400 otherwise, and 406 for an unknown `duration`.
- `/pricebook` lists hourly prices named after GPU models (per GPU), CPU-only
  flavors (per VM), `Cloud-SSD` (per GB) and `Public IP`.
- Not emulated: organisation firewalls (`exclude_firewalls` is accepted and
  has no effect), snapshots, logs, consoles, clusters, billing.
"""

from pulumi_infrahub.emulator.app import create_app
from pulumi_infrahub.emulator.faults import Faults
from pulumi_infrahub.emulator.server import EmulatorServer
from pulumi_infrahub.emulator.settings import (
    DEMO_API_KEY,
    DEMO_DELAYS,
    DEMO_ENVIRONMENT,
    DEMO_KEYPAIR,
    DEMO_REGION,
    Delays,
    EmulatorSettings,
    Exchange,
    ManualClock,
)

__all__ = [
    "DEMO_API_KEY",
    "DEMO_DELAYS",
    "DEMO_ENVIRONMENT",
    "DEMO_KEYPAIR",
    "DEMO_REGION",
    "Delays",
    "EmulatorServer",
    "EmulatorSettings",
    "Exchange",
    "Faults",
    "ManualClock",
    "create_app",
]
