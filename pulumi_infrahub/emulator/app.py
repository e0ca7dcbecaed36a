"""`create_app(settings)`: the emulator's FastAPI app, wiring only."""

from __future__ import annotations

from fastapi import FastAPI

from pulumi_infrahub.emulator.errors import install_error_handlers
from pulumi_infrahub.emulator.middleware import ApiGate
from pulumi_infrahub.emulator.routes import (
    admin,
    catalog,
    environments,
    keypairs,
    pricebook,
    profiles,
    virtual_machines,
    volumes,
)
from pulumi_infrahub.emulator.runtime import Runtime
from pulumi_infrahub.emulator.settings import EmulatorSettings


def create_app(settings: EmulatorSettings | None = None) -> FastAPI:
    """An emulator of the Infrahub API; its routes live under `/v1`."""
    runtime = Runtime.start(settings or EmulatorSettings())
    app = FastAPI(
        title="Infrahub API emulator",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    for module in (
        virtual_machines,
        volumes,
        environments,
        keypairs,
        catalog,
        profiles,
        pricebook,
        admin,
    ):
        app.include_router(module.router)
    app.add_middleware(ApiGate, runtime=runtime)
    return app
