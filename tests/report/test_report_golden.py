"""Golden tests on previews recorded from the real CLI against the emulator.

`golden/<scenario>/` holds what `pulumi preview` wrote for one variant of
`golden_program` (event log, `--json` digest, the CLI's exit code) and the
reports expected from it; `make goldens` records them again. Each test checks
the rendered report against the recorded one and what the scenario is about.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from pulumi_infrahub.report import (
    Preview,
    Pricebook,
    exit_status,
    gpu_bill,
    read_digest,
    read_event_log,
    render_report,
)

GOLDEN = Path(__file__).parent / "golden"
PROGRAM = Path(__file__).parent / "golden_program" / "__main__.py"
SCENARIOS = (
    "no-change",
    "update",
    "replace",
    "create-delete",
    "policy",
    "secret",
    "failed",
    "large",
)
SECRET_SENTINEL = "golden-sentinel-6c1f92"


@cache
def pricebook() -> Pricebook:
    return Pricebook.from_entries(json.loads((GOLDEN / "pricebook.json").read_text()))


@cache
def preview(scenario: str) -> Preview:
    return read_event_log(GOLDEN / scenario / "events.jsonl")


def report(scenario: str, fmt: str = "markdown") -> str:
    recorded = preview(scenario)
    return render_report(recorded, gpu_bill(recorded, pricebook()), fmt=fmt)


def changed(recorded: Preview) -> list[tuple[str, str, str]]:
    return sorted((s.op, s.short_type, s.name) for s in recorded.changed_steps)


def test_every_scenario_was_recorded() -> None:
    recorded = sorted(path.name for path in GOLDEN.iterdir() if path.is_dir())

    assert recorded == sorted(SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_report_matches_the_recorded_one(scenario: str) -> None:
    folder = GOLDEN / scenario
    digest = read_digest(folder / "preview.json")

    assert report(scenario) == (folder / "report.md").read_text()
    assert report(scenario, "text") == (folder / "report.txt").read_text()
    assert (
        render_report(digest, gpu_bill(digest, pricebook()))
        == (folder / "report-from-json.md").read_text()
    )


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_exit_status_agrees_with_the_cli(scenario: str) -> None:
    meta = json.loads((GOLDEN / scenario / "meta.json").read_text())

    assert (exit_status(preview(scenario)) != 0) == (meta["pulumi_exit_code"] != 0)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_json_digest_and_event_log_agree_on_the_changes(scenario: str) -> None:
    digest = read_digest(GOLDEN / scenario / "preview.json")

    assert changed(digest) == changed(preview(scenario))


# The failed preview stops before any resource step is recorded.
@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "failed"])
def test_provider_property_is_recorded_but_never_reported(scenario: str) -> None:
    assert "__provider" in (GOLDEN / scenario / "events.jsonl").read_text()
    for fmt in ("markdown", "text"):
        assert "__provider" not in report(scenario, fmt)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_report_fits_in_a_comment(scenario: str) -> None:
    assert len(report(scenario)) <= 65_000


def test_no_change_preview() -> None:
    text = report("no-change")

    assert changed(preview("no-change")) == []
    assert ": no changes" in text
    assert "| 0 | 0 | 0 | 0 | 6 |" in text
    assert "#### Changes" not in text


def test_in_place_update_lists_old_and_new_labels() -> None:
    text = report("update")

    assert changed(preview("update")) == [("update", "VirtualMachine", "web")]
    assert '| `labels[0]` | `"owner=ops"` | `"owner=platform"` |' in text
    assert '| `labels[2]` | - | `"tier=gold"` |' in text
    assert "Replaces" not in text


def test_replacement_names_the_flavor_and_moves_the_bill() -> None:
    text = report("replace")
    bill = gpu_bill(preview("replace"), pricebook())

    assert ("replace", "VirtualMachine", "trainer") in changed(preview("replace"))
    assert "Replaced because of `flavor_name`." in text
    assert '| `flavor_name` | `"n3-A100x1"` | `"n3-A100x2"` | yes |' in text
    assert (bill.before.gpus, bill.after.gpus) == (3, 4)
    assert bill.after.hourly - bill.before.hourly == pytest.approx(1.35)


def test_creates_and_deletes() -> None:
    assert changed(preview("create-delete")) == [
        ("create", "VirtualMachine", "extra"),
        ("create", "Volume", "scratch"),
        ("delete", "VirtualMachine", "batch"),
    ]
    text = report("create-delete")
    assert "| 2 | 0 | 0 | 1 |" in text
    assert text.index("##### delete VirtualMachine `batch`") < text.index(
        "##### create VirtualMachine `extra`"
    )


def test_policy_violation_lists_mandatory_results_first_and_fails() -> None:
    text = report("policy")
    levels = re.findall(r"^\| (\*\*mandatory\*\*|advisory) \|", text, re.MULTILINE)

    assert exit_status(preview("policy")) == 1
    assert "blocked by 4 mandatory policy violations" in text
    assert levels == ["**mandatory**"] * 4 + ["advisory"]
    assert "| **mandatory** | `infrahub-vm-max-gpus` | VirtualMachine `big` |" in text


def test_secret_input_never_reaches_the_report() -> None:
    # The program really sends the sentinel, as a secret, in user_data.
    assert SECRET_SENTINEL in PROGRAM.read_text()
    folder = GOLDEN / "secret"
    reports = [report("secret"), report("secret", "text")]
    reports.append((folder / "report-from-json.md").read_text())

    for text in reports:
        assert SECRET_SENTINEL not in text
    assert "| `user_data` | - | `[secret]` | yes |" in reports[0]
    assert "| `user_data` | `[secret]` |" in reports[0]


def test_failed_preview_shows_the_error_and_fails() -> None:
    text = report("failed")

    assert exit_status(preview("failed")) == 1
    assert ": failed" in text
    assert "flavor\\_name 'n3-A100x3' is not a flavor in region CANADA-1" in text
    assert "The preview stopped on errors" in text


def test_large_stack_keeps_headline_policy_and_bill_under_the_limit() -> None:
    text = report("large")
    detailed = len(re.findall(r"^##### create VirtualMachine", text, re.MULTILINE))

    assert 0 < detailed < 150
    assert "| 150 | 0 | 0 | 0 | 6 |" in text
    assert "| **mandatory** | `infrahub-stack-max-vms` | stack |" in text
    assert "| VMs | 3 | 153 | +150 |" in text
    assert "| Hourly price |" in text
    assert re.search(r"Left out to stay under 65,000 characters: details of \d+", text)
    assert len(text) <= 65_000
