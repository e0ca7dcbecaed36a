"""A tiny dynamic provider for testing the engine set-up itself.

A memo is a JSON file in a folder; the folder plays the cloud. The module
lives outside the package under test on purpose: the engine tests prove that
the CLI, the language host and the provider shim work, whatever the Infrahub
resources do. The tests put this folder on PYTHONPATH, which the program and
the dynamic-provider process both inherit from the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
from pulumi import dynamic

MEMO_TYPE = "pulumi-python:dynamic/e2e:Memo"


def _write(path: Path, text: str) -> None:
    path.write_text(json.dumps({"text": text}))


class MemoProvider(dynamic.ResourceProvider):
    """Creates, reads, updates and deletes memo files."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        failures = []
        if news.get("text") == "":
            failures.append(dynamic.CheckFailure("text", "A memo needs some text."))
        return dynamic.CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        if props.get("fail_create"):
            raise RuntimeError(f"the memo store refused {props['name']!r}")
        path = Path(props["folder"]) / f"{props['name']}.json"
        _write(path, props["text"])
        return dynamic.CreateResult(id_=str(path), outs=dict(props))

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        path = Path(id_)
        if not path.exists():
            return dynamic.ReadResult(id_="", outs={})
        current = {**props, "text": json.loads(path.read_text())["text"]}
        return dynamic.ReadResult(id_=id_, outs=current, inputs=current)

    def update(
        self, id_: str, _olds: dict[str, Any], news: dict[str, Any]
    ) -> dynamic.UpdateResult:
        _write(Path(id_), news["text"])
        return dynamic.UpdateResult(outs=dict(news))

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        Path(id_).unlink(missing_ok=True)


class Memo(dynamic.Resource, module="e2e", name="Memo"):
    """A memo file holding `text`, named after the resource."""

    text: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        folder: str,
        text: str,
        fail_create: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "name": name,
            "folder": folder,
            "text": text,
            "fail_create": fail_create,
        }
        super().__init__(MemoProvider(), name, props, opts)
