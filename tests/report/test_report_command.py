"""The `preview-report` command: inputs, output, prices and exit status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from preview_events import VM, log, policy, state, step, summary, vm_inputs

from pulumi_infrahub.cli import main
from pulumi_infrahub.emulator.testing import RunningEmulator


def run_command(*argv: str) -> int:
    return main(["preview-report", *argv])


def write_log(path: Path, *events: dict[str, object]) -> Path:
    path.write_text("\n".join(log(*events)) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def no_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("INFRAHUB_API_KEY", "HYPERSTACK_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def pricebook(tmp_path: Path) -> Path:
    path = tmp_path / "pricebook.json"
    path.write_text(json.dumps([{"id": 1, "name": "A100-80G-PCIe", "value": 1.35}]))
    return path


def test_report_goes_to_the_output_file_and_the_status_is_zero(
    tmp_path: Path, pricebook: Path
) -> None:
    events = write_log(
        tmp_path / "events.jsonl",
        step("create", VM, "web", new=state(VM, "web", vm_inputs())),
        summary(),
    )
    output = tmp_path / "report.md"

    status = run_command(
        "--event-log", str(events), "--pricebook", str(pricebook), "-o", str(output)
    )

    text = output.read_text()
    assert status == 0
    assert "##### create VirtualMachine `web`" in text
    assert "| Hourly price | \\$0.00 | \\$1.35 | +\\$1.35 |" in text


def test_mandatory_violation_exits_one_and_still_writes_the_report(
    tmp_path: Path, pricebook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = write_log(
        tmp_path / "events.jsonl",
        policy("gpu-cap", "mandatory", "9 GPUs > 8"),
        summary(result="failed"),
    )

    status = run_command("--event-log", str(events), "--pricebook", str(pricebook))

    assert status == 1
    assert (
        "| **mandatory** | `gpu-cap` | stack | 9 GPUs \\> 8 |"
        in capsys.readouterr().out
    )


def test_text_format_for_terminals(
    tmp_path: Path, pricebook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = write_log(tmp_path / "events.jsonl", summary())

    status = run_command(
        "--event-log", str(events), "--pricebook", str(pricebook), "--format", "text"
    )

    out = capsys.readouterr().out
    assert status == 0
    assert "GPU bill (estimate)\n-------------------" in out


def test_unreadable_event_log_exits_two_with_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run_command("--event-log", str(tmp_path / "missing.jsonl"), "--no-prices")

    assert status == 2
    assert "Cannot read the event log" in capsys.readouterr().err


def test_no_input_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    status = run_command("--no-prices")

    assert status == 2
    assert "pass --event-log FILE" in capsys.readouterr().err


def test_malformed_pricebook_file_exits_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = write_log(tmp_path / "events.jsonl", summary())
    bad = tmp_path / "pricebook.json"
    bad.write_text('{"name": "not a list"}')

    status = run_command("--event-log", str(events), "--pricebook", str(bad))

    assert status == 2
    assert "is not a JSON list of objects" in capsys.readouterr().err


@pytest.mark.usefixtures("no_api_key")
def test_missing_api_key_leaves_prices_out_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = write_log(
        tmp_path / "events.jsonl",
        step("create", VM, "web", new=state(VM, "web", vm_inputs())),
        summary(),
    )

    status = run_command("--event-log", str(events))

    captured = capsys.readouterr()
    assert status == 0
    assert "No hourly price: No Infrahub API key" in captured.out
    assert "no prices in the GPU bill" in captured.err


def test_json_digest_alone_is_accepted(
    tmp_path: Path, pricebook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    digest = tmp_path / "preview.json"
    digest.write_text(json.dumps({"steps": [], "changeSummary": {"same": 1}}))

    status = run_command("--json", str(digest), "--pricebook", str(pricebook))

    assert status == 0
    out = capsys.readouterr().out
    assert "`pulumi preview --json` leaves policy results out" in out
    assert "Unchanged VMs are not counted" in out
    assert "leaves out the 1 unchanged resources" in out


def test_prices_come_from_the_api_pricebook(
    tmp_path: Path,
    emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("INFRAHUB_API_KEY", emulator.api_key)
    cpu = vm_inputs(flavor="n1-cpu-small", gpu="", count=0)
    events = write_log(
        tmp_path / "events.jsonl",
        step("create", VM, "gpu", new=state(VM, "gpu", vm_inputs(count=2))),
        step("create", VM, "cpu", new=state(VM, "cpu", cpu)),
        summary(),
    )

    status = run_command("--event-log", str(events), "--api-url", emulator.base_url)

    captured = capsys.readouterr()
    assert status == 0
    # The emulator prices an A100 GPU at 1.35 and an n1-cpu-small VM at 0.0296.
    assert "| Hourly price | \\$0.00 | \\$2.73 | +\\$2.73 |" in captured.out
    assert captured.err == ""
    assert emulator.api_key not in captured.out


def test_unreachable_api_leaves_prices_out_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INFRAHUB_API_KEY", "key-that-must-not-leak")
    events = write_log(tmp_path / "events.jsonl", summary())

    status = run_command(
        "--event-log", str(events), "--api-url", "http://127.0.0.1:9/v1"
    )

    captured = capsys.readouterr()
    assert status == 0
    assert "No hourly price: the pricebook could not be fetched" in captured.out
    assert "key-that-must-not-leak" not in captured.out + captured.err


def test_unwritable_output_exits_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = write_log(tmp_path / "events.jsonl", summary())
    output = tmp_path / "missing-folder" / "report.md"

    status = run_command("--event-log", str(events), "--no-prices", "-o", str(output))

    captured = capsys.readouterr()
    assert status == 2
    assert f"cannot write {output}" in captured.err
    assert "no prices" not in captured.err
