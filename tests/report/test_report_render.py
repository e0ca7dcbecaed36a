"""Unit tests of the report layout, on small previews built by hand."""

from __future__ import annotations

import re

from preview_events import (
    VM,
    VOLUME,
    diagnostic,
    log,
    policy,
    secret,
    stack_step,
    state,
    step,
    summary,
    urn,
    vm_inputs,
)

from pulumi_infrahub.report import (
    MARKER,
    Pricebook,
    exit_status,
    gpu_bill,
    parse_event_log,
    render_report,
)

PRICES = Pricebook.from_entries([{"name": "A100-80G-PCIe", "value": 1.35}])


def report(lines: list[str], fmt: str = "markdown", max_chars: int = 65_000) -> str:
    preview = parse_event_log(lines)
    return render_report(
        preview, gpu_bill(preview, PRICES), fmt=fmt, max_chars=max_chars
    )


def vm_state(name: str, **inputs: object) -> dict[str, object]:
    return state(VM, name, vm_inputs(**inputs))


def test_headline_counts_each_operation_and_unchanged() -> None:
    lines = log(
        stack_step(),
        step("same", VM, "a", old=vm_state("a"), new=vm_state("a")),
        step("same", VM, "b", old=vm_state("b"), new=vm_state("b")),
        step("create", VM, "c", new=vm_state("c")),
        step("delete", VOLUME, "d", old=state(VOLUME, "d", {"size": 10.0})),
        summary(),
    )

    text = report(lines)

    assert "| To create | To update | To replace | To delete | Unchanged |" in text
    assert "| 1 | 0 | 0 | 1 | 2 |" in text
    assert "### Pulumi preview of `gpu-project/dev`: 2 changes" in text


def test_no_change_preview_says_so() -> None:
    lines = log(
        stack_step(), step("same", VM, "a", old=vm_state("a"), new=vm_state("a"))
    )
    lines += log(summary())[1:]

    text = report(lines)

    assert ": no changes" in text
    assert "#### Changes" not in text


def test_report_starts_with_the_hidden_marker_ci_looks_for() -> None:
    text = report(log(stack_step(), summary()))

    assert text.startswith(f"<!-- {MARKER} gpu-project/dev -->\n")


def test_mandatory_violations_come_first_and_block() -> None:
    lines = log(
        policy("labels", "advisory", "missing team label", urn(VM, "a")),
        policy("gpu-cap", "mandatory", "9 GPUs > 8"),
        policy("flavors", "mandatory", "n3-H100x8 not allowed", urn(VM, "b")),
        summary(result="failed", packs={"infrahub-limits": "v0.1.0"}),
    )

    text = report(lines)

    rows = [line for line in text.splitlines() if line.startswith("| **mandatory**")]
    assert len(rows) == 2
    assert text.index("`flavors`") < text.index("`gpu-cap`") < text.index("`labels`")
    assert "blocked by 2 mandatory policy violations" in text


def test_replacement_names_the_property_that_forces_it() -> None:
    lines = log(
        step(
            "replace",
            VM,
            "trainer",
            old=vm_state("trainer"),
            new=vm_state("trainer", flavor="n3-A100x2", count=2),
            detailed={"flavor_name": "update-replace", "gpu_count": "update"},
            keys=["flavor_name"],
        ),
        summary(),
    )

    text = report(lines)

    assert "##### replace VirtualMachine `trainer`" in text
    assert "Replaced because of `flavor_name`." in text
    assert '| `flavor_name` | `"n3-A100x1"` | `"n3-A100x2"` | yes |' in text
    assert "| `gpu_count` | `1` | `2` |  |" in text


def test_provider_property_never_reaches_the_report() -> None:
    lines = log(
        step(
            "update",
            VM,
            "a",
            old=vm_state("a"),
            new=vm_state("a", __provider={"pickled": "provider"}),
            detailed={"__provider": "update"},
            diffs=["__provider"],
        ),
        step("create", VM, "b", new=vm_state("b")),
        summary(),
    )

    for fmt in ("markdown", "text"):
        text = report(lines, fmt)
        assert "__provider" not in text
        assert "provider" not in text.replace("provider data", "")
    assert "Only internal provider data changed." in report(lines)


def test_secret_sentinel_never_appears_in_any_form() -> None:
    sentinel = "SENTINEL-7d1f0c"
    lines = log(
        step("create", VM, "plain", new=vm_state("plain", user_data=f"#{sentinel}")),
        step("create", VM, "shown", new=vm_state("shown", user_data=secret(sentinel))),
        step(
            "update",
            VM,
            "labels",
            old=vm_state("labels", labels={"token": "old"}),
            new=vm_state("labels", labels={"token": secret(sentinel)}),
            detailed={"labels.token": "update"},
        ),
        summary(),
    )

    for fmt in ("markdown", "text"):
        text = report(lines, fmt)
        assert sentinel not in text
        assert "[secret]" in text
    assert "| `labels.token` | `[secret]` | `[secret]` |" in report(lines)


def test_policy_message_cannot_break_the_table_or_inject_html() -> None:
    message = "a | b <img src=x> @team [x](http://y)"
    lines = log(policy("odd", "advisory", message, urn(VM, "a")), summary())

    text = report(lines)

    (row,) = [line for line in text.splitlines() if "`odd`" in line]
    assert row.count(" | ") == 3
    assert re.search(r"(?<!\\)<img", text) is None
    assert "\\@team" in text
    assert "\\[x\\]" in text


def test_text_format_has_no_markdown_markup() -> None:
    lines = log(
        step("create", VM, "a", new=vm_state("a")),
        policy("gpu-cap", "mandatory", "too many"),
        summary(result="failed"),
    )

    text = report(lines, "text")

    assert "<!--" not in text
    assert "**" not in text
    assert "`" not in text
    assert re.search(r"^mandatory\s+gpu-cap\s+stack\s+too many$", text, re.MULTILINE)


def test_bill_shows_prices_before_and_after_as_an_estimate() -> None:
    lines = log(
        step("same", VM, "a", old=vm_state("a"), new=vm_state("a")),
        step("create", VM, "b", new=vm_state("b", count=2)),
        summary(),
    )

    text = report(lines)

    assert "#### GPU bill (estimate)" in text
    assert "| GPUs (A100-80G-PCIe) | 1 | 3 | +2 |" in text
    assert "| Hourly price | \\$1.35 | \\$4.05 | +\\$2.70 |" in text
    assert "Estimate at the hourly list prices" in text


def test_bill_without_prices_says_why() -> None:
    preview = parse_event_log(
        log(step("create", VM, "b", new=vm_state("b")), summary())
    )

    text = render_report(
        preview, gpu_bill(preview, None, "INFRAHUB_API_KEY is not set")
    )

    assert "Hourly price" not in text
    assert "No hourly price: INFRAHUB\\_API\\_KEY is not set." in text


def test_errors_are_listed_near_the_top() -> None:
    lines = log(
        step("create", VM, "a", new=vm_state("a")),
        diagnostic("flavor n9 does not exist", resource=urn(VM, "a")),
        summary(result="failed"),
    )

    text = report(lines)

    assert ": failed" in text
    assert "- VirtualMachine `a`: flavor n9 does not exist" in text
    assert text.index("#### Errors") < text.index("#### GPU bill")


def large_stack(vms: int, violations: int, result: str = "failed") -> list[str]:
    events = [stack_step()]
    for number in range(vms):
        name = f"node-{number:04d}"
        events.append(
            step(
                "update" if number % 2 else "create",
                VM,
                name,
                old=vm_state(name, labels={"i": "old"}) if number % 2 else None,
                new=vm_state(name, labels={"i": "x" * 200, "team": "ml"}),
                detailed={"labels.i": "update", "labels.team": "add"}
                if number % 2
                else None,
            )
        )
    for number in range(violations):
        level = "mandatory" if number % 3 == 0 else "advisory"
        events.append(policy(f"rule-{number:03d}", level, "over the cap " * 5))
    events.append(summary(result=result, packs={"infrahub-limits": "v0.1.0"}))
    return log(*events)


def test_large_stack_stays_under_the_limit_and_keeps_the_essentials() -> None:
    lines = large_stack(vms=400, violations=30)

    text = report(lines)

    assert len(text) <= 65_000
    assert "| 200 | 200 | 0 | 0 | 0 |" in text
    assert text.count("| **mandatory** |") == 10
    assert text.count("| advisory |") == 20
    assert "| Hourly price | \\$270.00 | \\$540.00 | +\\$270.00 |" in text
    assert "Left out to stay under 65,000 characters: details of" in text
    assert "##### create VirtualMachine `node-0000`" in text


def test_cut_note_counts_what_was_left_out() -> None:
    lines = large_stack(vms=400, violations=0)

    text = report(lines, max_chars=20_000)

    detailed = len(re.findall(r"^##### ", text, re.MULTILINE))
    listed = len(re.findall(r"^- (create|update) VirtualMachine", text, re.MULTILINE))
    match = re.search(
        r"details of (\d+) resources \((\d+) create, (\d+) update\)", text
    )
    assert match is not None
    assert int(match.group(1)) == 400 - detailed
    assert int(match.group(2)) + int(match.group(3)) == 400 - detailed
    unlisted = re.search(r"the names of (\d+) of them", text)
    assert unlisted is not None
    assert int(unlisted.group(1)) == 400 - detailed - listed
    assert len(text) <= 20_000


def test_policy_results_are_cut_last_and_mandatory_ones_kept() -> None:
    lines = large_stack(vms=10, violations=600)

    text = report(lines, max_chars=30_000)

    assert len(text) <= 30_000
    assert "| Hourly price |" in text
    kept_mandatory = text.count("| **mandatory** |")
    assert kept_mandatory == 200 or "| advisory |" not in text
    assert re.search(r"\d+ policy results \(mandatory ones come first\)", text)


def test_text_format_obeys_the_limit_too() -> None:
    text = report(large_stack(vms=400, violations=5), "text", max_chars=10_000)

    assert len(text) <= 10_000
    assert "GPU bill (estimate)" in text


def test_exit_status_follows_the_preview_not_the_report() -> None:
    ok = parse_event_log(log(step("create", VM, "a", new=vm_state("a")), summary()))
    failed = parse_event_log(log(summary(result="failed")))
    blocked = parse_event_log(log(policy("cap", "mandatory", "no"), summary()))
    advised = parse_event_log(log(policy("cap", "advisory", "hm"), summary()))
    huge = parse_event_log(large_stack(vms=400, violations=0, result="succeeded"))

    assert [exit_status(p) for p in (ok, failed, blocked, advised, huge)] == [
        0,
        1,
        1,
        0,
        0,
    ]


def test_stack_policy_reported_against_the_stack_urn_reads_stack() -> None:
    stack_urn = urn("pulumi:pulumi:Stack", "gpu-project-dev")
    lines = log(
        policy("gpu-cap", "mandatory", "Caps GPUs.\n9 GPUs > 8\n", stack_urn),
        summary(result="failed", packs={"infrahub-limits|local|/runner/pack": "0.1.0"}),
    )

    text = report(lines)

    assert "| **mandatory** | `gpu-cap` | stack | Caps GPUs.<br>9 GPUs \\> 8 |" in text
    assert "from `infrahub-limits` 0.1.0." in text
    assert "/runner/pack" not in text
