"""The engine set-up itself: the real CLI, our language host and plugin shims.

These tests run a tiny dynamic provider (a memo kept as a JSON file, in
`support/e2e_memo.py`) through every command the other end-to-end tests rely
on, so that a failure here points at the engine set-up and not at the
Infrahub resources.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import MakeProject, PulumiProject

HERE = Path(__file__).parent
SUPPORT = HERE / "support"
PROGRAM = HERE / "programs" / "memo"
POLICY_PACK = HERE / "policy_packs" / "memo_policy"

MEMO_TYPE = "pulumi-python:dynamic/e2e:Memo"
TOKEN = "e2e-sentinel-token-5c1d9a"


@pytest.fixture
def memo_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "memos"
    folder.mkdir()
    return folder


@pytest.fixture
def project(make_project: MakeProject, memo_folder: Path) -> PulumiProject:
    return make_project(
        PROGRAM,
        name="memo",
        config={"folder": str(memo_folder), "text": "hello"},
        secrets={"token": TOKEN},
        env={"PYTHONPATH": str(SUPPORT)},
    )


def memo_text(path: str) -> str:
    text: str = json.loads(Path(path).read_text())["text"]
    return text


def write_pack_config(project: PulumiProject, banned: str) -> Path:
    path = project.scratch_dir / "policy-config.json"
    path.write_text(json.dumps({"no-banned-text": {"banned": banned}}))
    return path


def test_up_creates_the_memo_and_exports_config_and_secret_outputs(
    project: PulumiProject,
) -> None:
    up = project.up()

    outputs = project.outputs()
    assert outputs["text"] == "hello"
    assert outputs["stack"] == "e2e"
    assert outputs["token"] == "[secret]"
    assert memo_text(outputs["memo_id"]) == "hello"
    assert TOKEN not in up.output
    assert TOKEN not in json.dumps(project.export())
    assert project.outputs(show_secrets=True)["token"] == TOKEN


def test_expect_no_changes_holds_after_up_and_fails_after_a_config_change(
    project: PulumiProject,
) -> None:
    project.up()
    project.preview("--expect-no-changes")

    project.config_set("text", "changed")
    changed = project.preview("--expect-no-changes", check=False)

    assert changed.returncode != 0
    assert "no changes were expected" in changed.output.lower()


def test_preview_diff_shows_the_old_and_new_value_and_up_updates_in_place(
    project: PulumiProject,
) -> None:
    project.up()
    memo_id = project.outputs()["memo_id"]

    project.config_set("text", "changed")
    diff = project.preview("--diff")
    project.up()

    assert '"hello" => "changed"' in diff.stdout
    assert project.outputs()["memo_id"] == memo_id
    assert memo_text(memo_id) == "changed"


def test_refresh_reads_drift_and_the_next_up_repairs_it(
    project: PulumiProject,
) -> None:
    project.up()
    memo_id = project.outputs()["memo_id"]
    Path(memo_id).write_text(json.dumps({"text": "drifted"}))

    project.refresh()
    (memo,) = project.resources(MEMO_TYPE)
    drift_seen = project.preview("--expect-no-changes", check=False)
    project.up()

    assert memo["outputs"]["text"] == "drifted"
    assert drift_seen.returncode != 0
    assert memo_text(memo_id) == "hello"


def test_destroy_deletes_the_memo_and_empties_the_stack(
    project: PulumiProject, memo_folder: Path
) -> None:
    project.up()

    project.destroy()

    assert list(memo_folder.iterdir()) == []
    assert project.resources(MEMO_TYPE) == []


def test_failing_create_fails_up_with_the_provider_error_and_keeps_nothing(
    project: PulumiProject, memo_folder: Path
) -> None:
    project.config_set("failCreate", "true")

    up = project.up(check=False)

    assert up.returncode != 0
    assert "the memo store refused 'greeting'" in up.output
    assert project.resources(MEMO_TYPE) == []
    assert list(memo_folder.iterdir()) == []


def test_program_exception_fails_preview_and_shows_only_the_user_frames(
    project: PulumiProject,
) -> None:
    project.config_set("raise", "true")

    preview = project.preview(check=False)

    assert preview.returncode != 0
    assert "ValueError: the program was told to fail" in preview.output
    assert f"{project.program_dir / '__main__.py'}" in preview.output
    assert "run_program.py" not in preview.output


def test_policy_pack_reports_a_mandatory_violation_with_the_stack_details(
    project: PulumiProject, memo_folder: Path
) -> None:
    pack_config = write_pack_config(project, banned="hello")

    preview, events = project.with_event_log(
        "preview",
        "--policy-pack",
        str(POLICY_PACK),
        "--policy-pack-config",
        str(pack_config),
        check=False,
    )

    message = (
        f"memo text 'hello' is banned on stack e2e of project memo "
        f"(folder {memo_folder})"
    )
    violations = [event["policyEvent"] for event in events if "policyEvent" in event]
    assert preview.returncode != 0
    assert message in preview.output
    assert [v["policyName"] for v in violations] == ["no-banned-text"]
    assert violations[0]["enforcementLevel"] == "mandatory"
    assert message in violations[0]["message"]


def test_policy_pack_passes_when_the_memo_holds_no_banned_text(
    project: PulumiProject,
) -> None:
    pack_config = write_pack_config(project, banned="goodbye")

    preview = project.preview(
        "--policy-pack", str(POLICY_PACK), "--policy-pack-config", str(pack_config)
    )

    assert "memo-policy" in preview.output
    assert "banned" not in preview.output


def test_preview_json_lists_the_planned_create(project: PulumiProject) -> None:
    preview = project.preview("--json")

    plan: dict[str, Any] = json.loads(preview.stdout)
    operations = {step["urn"].rsplit("::", 1)[1]: step["op"] for step in plan["steps"]}
    assert operations["greeting"] == "create"


def test_missing_virtualenv_is_reported_before_the_program_runs(
    project: PulumiProject,
) -> None:
    project_file = project.program_dir / "Pulumi.yaml"
    settings = yaml.safe_load(project_file.read_text())
    settings["runtime"]["options"]["virtualenv"] = "no-such-venv"
    project_file.write_text(yaml.safe_dump(settings))

    preview = project.preview(check=False)

    assert preview.returncode != 0
    assert f"{project.program_dir / 'no-such-venv'}" in preview.output
    assert "does not exist" in preview.output
