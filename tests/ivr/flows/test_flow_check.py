"""The flow checker: the shipped flows pass, and each kind of mistake is reported with
the file and line to fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ivr.flows import (
    FlowError,
    FlowProblem,
    check_command_output,
    check_flows,
    load_flows,
)
from tests.ivr.flows.conftest import FLOWS_DIR


def test_the_shipped_flows_pass_the_check():
    problems = check_flows(FLOWS_DIR)
    assert problems == [], check_command_output(problems)
    assert check_command_output(problems) == "flows OK: no problems found"


def test_the_shipped_flows_cover_both_production_languages(flows):
    assert set(flows.languages) == {"zh", "en", "ko"}
    assert (
        set(flows.languages["zh"].flows)
        == set(flows.languages["en"].flows)
        == {
            "main",
            "booking",
            "appointments",
            "info",
            "complaints",
        }
    )
    assert flows.languages["ko"].settings.test_only


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the shipped flows to break."""
    shutil.copytree(FLOWS_DIR, tmp_path / "ivr")
    return tmp_path / "ivr"


def edit(tree: Path, name: str, old: str, new: str) -> tuple[str, int]:
    """Replace ``old`` by ``new`` in one file; the file as reported and the (1-based)
    line where ``new`` starts."""
    path = tree / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    line = text[: text.index(new)].count("\n") + 1
    return str(path), line


def problems_at(tree: Path) -> list[str]:
    return [str(problem) for problem in check_flows(tree)]


def test_unknown_step_reference(tree: Path):
    file, line = edit(tree, "zh/booking.yaml", "goto: main.anything_else\n", "goto: main.anythin\n")
    assert f"{file}:{line}: unknown step in reference 'main.anythin'" in problems_at(tree)


def test_reference_to_an_unknown_flow(tree: Path):
    file, line = edit(tree, "en/main.yaml", "goto: info.start", "goto: infos.start")
    assert f"{file}:{line}: unknown flow in reference 'infos.start'" in problems_at(tree)


def test_unknown_action(tree: Path):
    file, line = edit(tree, "zh/info.yaml", "action: hospital_info", "action: hospital_inf")
    found = problems_at(tree)
    assert f"{file}:{line}: unknown action 'hospital_inf' (did you mean 'hospital_info'?)" in found


def test_missing_prompt(tree: Path):
    file, line = edit(
        tree,
        "en/info.yaml",
        "  no_info:\n    prompt: Sorry, we have no information on that at the moment.\n",
        "  no_info:\n",
    )
    assert f"{file}:{line}: step 'no_info' has no prompt" in problems_at(tree)


def test_choice_with_neither_phrase_nor_key(tree: Path):
    file, line = edit(
        tree,
        "zh/info.yaml",
        'departments: {phrases: [科室介绍, 科室], key: "2",',
        "departments: {",
    )
    assert f"{file}:{line}: choice 'departments' of step 'start' has neither phrases nor key" in (
        problems_at(tree)
    )


def test_unreachable_step(tree: Path):
    orphan = "  orphan:\n    prompt: 无人到达。\n    goto: start\n\n  no_doctor:\n"
    file, line = edit(tree, "zh/info.yaml", "  no_doctor:\n", orphan)
    assert f"{file}:{line}: step 'orphan' is unreachable from main.welcome" in problems_at(tree)


def test_duplicate_yaml_keys(tree: Path):
    file, line = edit(
        tree, "en/info.yaml", "  say_info:\n", "  hours:\n    prompt: x\n  say_info:\n"
    )
    found = [p for p in problems_at(tree) if p.startswith(file)]
    assert len(found) == 1 and found[0].startswith(f"{file}:{line}: duplicate key")
    assert '"hours"' in found[0]


def test_two_choices_with_one_key(tree: Path):
    file, line = edit(
        tree, "en/info.yaml", 'key: "2", label: our departments', 'key: "1", label: x'
    )
    assert f"{file}:{line}: key '1' of choice 'departments' of step 'start' is already 'hours'" in (
        problems_at(tree)
    )


def test_a_choice_may_not_take_the_person_key(tree: Path):
    file, line = edit(
        tree, "zh/info.yaml", 'key: "9", label: 返回主菜单', 'key: "0", label: 返回主菜单'
    )
    assert f"{file}:{line}: key '0' of choice 'back' is the key for a person at every step" in (
        problems_at(tree)
    )


def test_a_language_missing_a_flow_the_other_has(tree: Path):
    (tree / "en" / "info.yaml").unlink()
    found = problems_at(tree)
    assert f"{tree}/zh/info.yaml:2: flow 'info' of 'zh' is missing in 'en'" in found
    # and the references to it are reported as such
    assert any("en/main.yaml" in p and "unknown flow in reference 'info.start'" in p for p in found)


def test_the_test_language_need_not_have_every_flow(flows):
    assert set(flows.languages["ko"].flows) == {"main"}  # and the shipped check passes


def test_placeholder_not_provided(tree: Path):
    file, line = edit(
        tree, "en/info.yaml", "prompt: Sorry, we have no", "prompt: Sorry {caller}, we have no"
    )
    assert f"{file}:{line}: placeholder {{caller}} is not provided by any action or slot" in (
        problems_at(tree)
    )


def test_bad_braces(tree: Path):
    file, line = edit(
        tree, "en/info.yaml", "prompt: Sorry, we have no", "prompt: Sorry {, we have no"
    )
    assert any(p.startswith(f"{file}:{line}: bad braces") for p in problems_at(tree))


def test_yaml_syntax_error(tree: Path):
    file, _ = edit(tree, "zh/complaints.yaml", "    choices:\n", "    choices: [\n")
    found = [p for p in problems_at(tree) if p.startswith(file)]
    assert found and found[0].startswith(f"{file}:") and "YAML" in found[0]


def test_unknown_field_with_a_suggestion(tree: Path):
    file, line = edit(
        tree, "en/info.yaml", "    prompt: Sorry, we could", "    promt: Sorry, we could"
    )
    assert (
        f"{file}:{line}: unknown field 'promt' in step 'no_doctor' (did you mean 'prompt'?)"
    ) in problems_at(tree)


def test_unknown_action_parameter_and_outcome(tree: Path):
    file, line = edit(
        tree, "en/info.yaml", "{topic: opening_hours}", "{topic: opening_hours, when: now}"
    )
    edit(tree, "en/info.yaml", "not_found: no_info}", "not_found: no_info, gone: no_info}")
    found = problems_at(tree)
    assert f"{file}:{line}: action 'hospital_info' takes no parameter 'when'" in found
    assert any("has no outcome 'gone'" in p for p in found)


def test_a_literal_parameter_outside_its_values(tree: Path):
    file, line = edit(tree, "en/info.yaml", "{topic: opening_hours}", "{topic: parking}")
    expected = f"{file}:{line}: hospital_info.topic must be one of"
    assert any(p.startswith(expected) for p in problems_at(tree))


def test_an_outcome_that_goes_nowhere(tree: Path):
    routed = "on: {found: say_info, not_found: no_info}\n\n  departments"
    file, _ = edit(tree, "en/info.yaml", routed, "on: {found: say_info}\n\n  departments")
    found = problems_at(tree)
    assert any(p.startswith(file) and "outcome not_found goes nowhere" in p for p in found)


def test_booking_is_reached_only_from_a_confirmed_choice(tree: Path):
    file, line = edit(tree, "en/booking.yaml", "    goto: find_slots\n", "    goto: do_book\n")
    assert (
        f"{file}:{line}: step 'do_book' runs book: reach it only from a choice the caller"
        " confirms, not from goto"
    ) in problems_at(tree)


def test_steps_that_loop_without_listening(tree: Path):
    edit(tree, "zh/info.yaml", "医生。\n    goto: start", "医生。\n    goto: no_doctor")
    found = problems_at(tree)
    assert any("steps loop without listening: info.no_doctor → info.no_doctor" in p for p in found)


def test_missing_language_file(tree: Path):
    (tree / "ko" / "language.yaml").unlink()
    assert f"{tree}/ko: language.yaml is missing" in problems_at(tree)


def test_load_flows_refuses_broken_flows_with_the_problems(tree: Path):
    edit(tree, "zh/info.yaml", "action: hospital_info", "action: nothing")
    with pytest.raises(FlowError) as caught:
        load_flows(tree)
    assert caught.value.problems and "unknown action 'nothing'" in str(caught.value)


def test_check_command_output_lists_problems_sorted_with_a_count():
    problems = [FlowProblem("b.yaml", 3, "second"), FlowProblem("a.yaml", 9, "first")]
    assert check_command_output(problems) == ("a.yaml:9: first\nb.yaml:3: second\n2 problems found")
    assert check_command_output([FlowProblem("x", 0, "no such directory")]) == (
        "x: no such directory\n1 problem found"
    )


def test_a_missing_directory_is_a_problem(tmp_path: Path):
    assert [str(p) for p in check_flows(tmp_path / "nope")] == [
        f"{tmp_path / 'nope'}: no such directory"
    ]


def test_a_voice_message_with_a_bad_length_or_field(tree: Path):
    file, line = edit(tree, "en/complaints.yaml", "max_s: 120", "max_s: 9000, beep: yes")
    found = problems_at(tree)
    assert f"{file}:{line}: max_s must be a whole number from 5 to 600" in found
    assert f"{file}:{line}: unknown field 'beep' in voice_message" in found


def test_a_voice_message_text_only_knows_its_seconds(tree: Path):
    file, line = edit(tree, "zh/complaints.yaml", "{seconds}秒", "{minutes}分")
    assert f"{file}:{line}: placeholder {{minutes}} is not provided by any action or slot" in (
        problems_at(tree)
    )


def test_a_digit_entry_ends_early_only_on_hash(tree: Path):
    file, line = edit(tree, "en/complaints.yaml", 'terminator: "#"', 'terminator: "*"')
    assert f"{file}:{line}: digits: terminator must be \"#\", not '*'" in problems_at(tree)
