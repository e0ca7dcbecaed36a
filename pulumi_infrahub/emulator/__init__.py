"""A local emulator of the Infrahub API, for tests, demos and offline stacks.

Start it with `pulumi-infrahub emulator`, or in-process with
`create_app(EmulatorSettings(...))` or `EmulatorServer`.
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
