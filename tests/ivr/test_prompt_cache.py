"""PromptCache with the real renderer: content addressing, hits, single flight, damage."""

from __future__ import annotations

import asyncio
import dataclasses
import stat
import wave
from pathlib import Path

import pytest

from cti.settings import Language
from ivr.prompts import (
    InvalidPromptText,
    PromptCache,
    PromptRenderer,
    PromptRenderError,
    UnknownVoice,
    wav_info,
)


def frames(path: Path) -> bytes:
    with wave.open(str(path), "rb") as wav:
        return wav.readframes(wav.getnframes())


def files_in(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file())


async def test_second_get_is_a_cache_hit(cache: PromptCache, renderer: PromptRenderer) -> None:
    first = await cache.get("Welcome to the hotline.", Language.ENGLISH)
    second = await cache.get("Welcome to the hotline.", Language.ENGLISH)
    assert renderer.renders == 1
    assert second == first
    assert (cache.stats.renders, cache.stats.hits) == (1, 1)
    assert first.voice == "en-us" and first.text == "Welcome to the hotline."
    info = wav_info(first.path)
    assert info.is_telephone_audio
    assert first.duration_s == pytest.approx(info.duration_s)
    assert first.path_without_extension == first.path.with_suffix("")


async def test_files_are_content_addressed_and_complete(cache: PromptCache) -> None:
    prompt = await cache.get("Welcome to the hotline.", "en-us")
    key = prompt.path.stem
    assert len(key) == 64 and prompt.path.parent.name == key[:2]
    assert prompt.path.parent.parent == cache.cache_dir
    assert prompt.path.suffix == ".wav"
    assert key == cache.key("Welcome to the hotline.", "en-us")
    assert files_in(cache.cache_dir) == [prompt.path], "a temporary file was left behind"
    mode = stat.S_IMODE(prompt.path.stat().st_mode)
    assert mode & 0o044 == 0o044, "Asterisk (another user) must be able to read prompts"


async def test_another_cache_on_the_same_directory_finds_the_file(
    cache: PromptCache, tmp_path: Path
) -> None:
    first = await cache.get("您好", Language.MANDARIN)
    other_renderer = PromptRenderer(rate=160)
    other = PromptCache(other_renderer, cache.cache_dir)
    again = await other.get("您好", Language.MANDARIN)
    assert again.path == first.path
    assert other_renderer.renders == 0 and other.stats.hits == 1


async def test_concurrent_gets_of_one_prompt_render_it_once(
    cache: PromptCache, renderer: PromptRenderer
) -> None:
    results = await asyncio.gather(*(cache.get("Please hold.", "en-us") for _ in range(20)))
    assert renderer.renders == 1
    assert len({r.path for r in results}) == 1
    assert cache.stats.renders == 1 and cache.stats.joined == 19


async def test_concurrent_gets_of_different_prompts_render_each(
    cache: PromptCache, renderer: PromptRenderer
) -> None:
    texts = [f"Your ticket number is {n}." for n in range(8)]
    results = await asyncio.gather(*(cache.get(t, "en-us") for t in texts for _ in range(3)))
    assert renderer.renders == 8
    assert len({r.path for r in results}) == 8
    assert all(wav_info(r.path).is_telephone_audio for r in results)


async def test_a_cancelled_waiter_does_not_cancel_the_render(
    cache: PromptCache, renderer: PromptRenderer
) -> None:
    impatient = asyncio.ensure_future(cache.get("A caller hangs up.", "en-us"))
    patient = asyncio.ensure_future(cache.get("A caller hangs up.", "en-us"))
    await asyncio.sleep(0)
    impatient.cancel()
    prompt = await patient
    assert wav_info(prompt.path).is_telephone_audio
    assert renderer.renders == 1


async def test_key_covers_text_voice_and_rate(cache: PromptCache, tmp_path: Path) -> None:
    english = await cache.get("one two three", "en-us")
    spaced = await cache.get("  one   two\nthree ", "en-us")  # same words, same prompt
    korean_voice = await cache.get("one two three", "ko")
    slower = await PromptCache(PromptRenderer(rate=120), cache.cache_dir).get(
        "one two three", "en-us"
    )
    assert spaced.path == english.path
    assert len({english.path, korean_voice.path, slower.path}) == 3
    assert slower.duration_s > english.duration_s


async def test_language_and_its_voice_name_share_files(cache: PromptCache) -> None:
    by_language = await cache.get("Goodbye.", Language.ENGLISH)
    by_voice = await cache.get("Goodbye.", "EN-US")
    assert by_language.path == by_voice.path


async def test_korean_voice_renders(cache: PromptCache) -> None:
    prompt = await cache.get("예약 문의 상담원", "ko")
    assert prompt.voice == "ko"
    assert 0.8 < prompt.duration_s < 6.0


async def test_a_damaged_file_is_rendered_again(
    cache: PromptCache, renderer: PromptRenderer
) -> None:
    prompt = await cache.get("Damaged on disk.", "en-us")
    prompt.path.write_bytes(b"RIFF\x00\x00")  # a crash of some other writer, a bad disk
    fresh = PromptCache(renderer, cache.cache_dir)
    again = await fresh.get("Damaged on disk.", "en-us")
    assert renderer.renders == 2
    assert wav_info(again.path).is_telephone_audio


async def test_a_deleted_file_is_rendered_again(
    cache: PromptCache, renderer: PromptRenderer
) -> None:
    prompt = await cache.get("Deleted by a clean-up job.", "en-us")
    prompt.path.unlink()
    again = await cache.get("Deleted by a clean-up job.", "en-us")
    assert again.path.exists() and renderer.renders == 2


async def test_a_failed_render_reaches_every_waiter_and_leaves_nothing(tmp_path: Path) -> None:
    cache = PromptCache(PromptRenderer(sox=str(tmp_path / "no-sox")), tmp_path / "prompts")
    results = await asyncio.gather(
        *(cache.get("Will fail.", "en-us") for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, PromptRenderError) for r in results)
    assert "apt-get install sox" in str(results[0])
    assert files_in(tmp_path / "prompts") == []
    # the failure is not cached: with sox back, the same request succeeds
    cache.renderer.sox = "sox"
    prompt = await cache.get("Will fail.", "en-us")
    assert wav_info(prompt.path).is_telephone_audio


async def test_bad_input_is_refused_before_anything_is_written(cache: PromptCache) -> None:
    with pytest.raises(InvalidPromptText, match="empty"):
        await cache.get("  \n ", Language.ENGLISH)
    with pytest.raises(InvalidPromptText, match=r"U\+0007"):
        await cache.get("ring\x07", Language.ENGLISH)
    with pytest.raises(UnknownVoice):
        await cache.get("hello", "xx-nowhere")
    assert not cache.cache_dir.exists() or files_in(cache.cache_dir) == []


async def test_an_unwritable_cache_directory_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "prompts"
    blocker.write_text("a file where the cache directory should be")
    cache = PromptCache(PromptRenderer(), blocker)
    with pytest.raises(PromptRenderError, match="cannot create the prompt cache directory"):
        await cache.get("hello", "en-us")


async def test_memory_is_bounded_and_forgotten_prompts_come_from_disk(
    renderer: PromptRenderer, tmp_path: Path
) -> None:
    cache = PromptCache(renderer, tmp_path / "prompts", remembered=2)
    first = [await cache.get(f"Prompt number {n}.", "en-us") for n in range(4)]
    assert len(cache._known) == 2
    again = [await cache.get(f"Prompt number {n}.", "en-us") for n in range(4)]
    assert again == first and renderer.renders == 4


async def test_joined_prompts_play_back_to_back_from_one_cached_file(
    cache: PromptCache, renderer: PromptRenderer, tmp_path: Path
) -> None:
    sorry = await cache.get("That does not match.", Language.ENGLISH)
    ask = await cache.get("Please key your date of birth.", Language.ENGLISH)
    joined = await cache.joined([sorry, ask])
    assert joined.duration_s == wav_info(joined.path).duration_s  # the file's length
    assert frames(joined.path) == frames(sorry.path) + frames(ask.path)
    assert joined.text == "That does not match. Please key your date of birth."
    assert wav_info(joined.path).is_telephone_audio
    again = await PromptCache(renderer, cache.cache_dir).joined([sorry, ask])
    assert again.path == joined.path and renderer.renders == 2  # found on disk
    assert (await cache.joined([ask, sorry])).path != joined.path


async def test_prompts_joined_into_a_given_file_are_not_cached(
    cache: PromptCache, tmp_path: Path
) -> None:
    sorry = await cache.get("That does not match.", Language.ENGLISH)
    dest = tmp_path / "transient" / "call.wav"
    dest.parent.mkdir()
    joined = await cache.joined([sorry, sorry], dest)
    assert joined.path == dest
    assert frames(joined.path) == frames(sorry.path) * 2
    assert joined.duration_s == wav_info(dest).duration_s
    assert files_in(cache.cache_dir) == [sorry.path]


async def test_joining_a_missing_prompt_is_a_clear_error(cache: PromptCache) -> None:
    sorry = await cache.get("That does not match.", Language.ENGLISH)
    gone = dataclasses.replace(sorry, path=sorry.path.with_name("gone.wav"))
    with pytest.raises(PromptRenderError, match=r"gone\.wav"):
        await cache.joined([sorry, gone])
    assert files_in(cache.cache_dir) == [sorry.path], "a temporary file was left behind"
