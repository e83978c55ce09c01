"""``hotline ivr check`` passes the shipped flows and names file and line of a fault."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from cti.settings import load_settings
from ivr.cli import flows_dir, ivr_group


def test_shipped_flows_pass_the_check() -> None:
    settings = load_settings()
    result = CliRunner().invoke(ivr_group, ["check"], obj=settings)
    assert result.exit_code == 0, result.output
    assert "no problems found" in result.output


def test_a_broken_reference_is_reported_with_file_and_line(tmp_path: Path) -> None:
    settings = load_settings()
    broken = tmp_path / "ivr"
    shutil.copytree(flows_dir(settings), broken)
    main = broken / "en" / "main.yaml"
    lines = main.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip().startswith("goto:"))
    lines[index] = lines[index].split("goto:")[0] + "goto: nowhere_step"
    main.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(ivr_group, ["check", str(broken)], obj=settings)
    assert result.exit_code == 1
    assert f"{main}:{index + 1}: unknown step in reference 'main.nowhere_step'" in result.output
