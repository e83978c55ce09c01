"""``hotline prompts render`` with real rendering."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from cti.asterisk.provisioner import AsteriskRunner
from cti.settings import Language, Settings, load_settings
from ivr.cli import PROMPT_SOURCES, prompt_cache_dir, prompts_group, static_prompts
from ivr.prompts import VOICES, wav_info


def settings_in(tmp_path: Path) -> Settings:
    # An Asterisk tree of its own, so the default target (the directory Hotline shares
    # with Asterisk) is inside tmp_path; nothing is started.
    return load_settings(
        cache_dir=tmp_path / "cache",
        state_dir=tmp_path / "state",
        asterisk_chroot_dir=tmp_path / "chroot",
        asterisk_mode="chroot",
    )


def test_static_prompts_cover_both_languages(tmp_path: Path) -> None:
    prompts = static_prompts(settings_in(tmp_path))
    voices = [voice for _text, voice in prompts]
    assert voices.count(VOICES[Language.MANDARIN]) == voices.count(VOICES[Language.ENGLISH]) >= 4
    assert len(set(prompts)) == len(prompts)


def test_static_prompts_take_more_sources_without_duplicates(tmp_path: Path) -> None:
    def flow_prompts(_settings: Settings) -> list[tuple[str, str]]:
        return [("请说出您要预约的科室。", "cmn-latn-pinyin"), ("Goodbye.", "en-us")] * 2

    settings = settings_in(tmp_path)
    base = static_prompts(settings)
    more = static_prompts(settings, (*PROMPT_SOURCES, flow_prompts))
    assert more[: len(base)] == base
    assert len(more) == len(base) + 2  # "Goodbye." is not the built-in goodbye text


def test_render_then_everything_is_cached(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    runner = CliRunner()
    first = runner.invoke(prompts_group, ["render"], obj=settings)
    assert first.exit_code == 0, first.output
    total = len(static_prompts(settings))
    assert re.search(rf"{total} prompts: {total} rendered, 0 already cached", first.output)
    target = prompt_cache_dir(AsteriskRunner(settings).layout)
    assert target.is_relative_to(tmp_path)
    files = sorted(target.rglob("*.wav"))
    assert len(files) == total
    assert all(wav_info(f).is_telephone_audio for f in files)

    second = runner.invoke(prompts_group, ["render"], obj=settings)
    assert second.exit_code == 0, second.output
    assert re.search(rf"{total} prompts: 0 rendered, {total} already cached", second.output)


def test_render_one_language_into_a_chosen_directory(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    target = tmp_path / "elsewhere"
    result = CliRunner().invoke(
        prompts_group, ["render", "--language", "en", "--cache-dir", str(target)], obj=settings
    )
    assert result.exit_code == 0, result.output
    english = [p for p in static_prompts(settings) if p[1] == VOICES[Language.ENGLISH]]
    assert len(list(target.rglob("*.wav"))) == len(english)
    assert not (settings.cache_dir / "prompts").exists()


def test_prompts_name_the_configured_hospital(tmp_path: Path) -> None:
    settings = load_settings(
        cache_dir=tmp_path, hospital_name="Riverside Clinic", hospital_name_zh="河畔诊所"
    )
    texts = " ".join(text for text, _voice in static_prompts(settings))
    assert "Riverside Clinic" in texts and "河畔诊所" in texts


def test_render_failure_is_a_clear_message_not_a_traceback(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    result = CliRunner().invoke(
        prompts_group, ["render", "--cache-dir", str(blocker / "prompts")], obj=settings
    )
    assert result.exit_code != 0
    assert "Error: cannot create the prompt cache directory" in result.output
    assert "Traceback" not in result.output
