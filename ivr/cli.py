"""``hotline prompts``: pre-render the prompts the hotline plays, so no caller waits for
text-to-speech."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cti.asterisk.provisioner import AsteriskRunner, InstanceLayout
from cti.settings import Language, Settings
from ivr import speech_text
from ivr.flows import check_command_output, check_flows
from ivr.prompts import VOICES, PromptCache, PromptError, PromptRenderer

#: A prompt to pre-render: (text, espeak-ng voice name).
StaticPrompt = tuple[str, str]
#: Something that knows prompts to pre-render (the built-in texts; later the IVR flow
#: files under dialplans/ivr/<language>/ add theirs by appending a source here).
PromptSource = Callable[[Settings], Iterable[StaticPrompt]]


def prompt_cache_dir(layout: InstanceLayout) -> Path:
    """Where rendered prompts live: a directory Asterisk can read (it plays them)."""
    return layout.share_host / "prompts"


def hospital_names(settings: Settings) -> Mapping[Language, str]:
    """The hospital's name as each language's prompts say it."""
    return {Language.MANDARIN: settings.hospital_name_zh, Language.ENGLISH: settings.hospital_name}


def builtin_prompts(settings: Settings) -> list[StaticPrompt]:
    """Greeting for unknown callers, fallback, hold and goodbye, in every language."""
    names = hospital_names(settings)
    return [
        (text, VOICES[language])
        for language in Language
        for text in speech_text.static_texts(language, names[language]).values()
    ]


PROMPT_SOURCES: tuple[PromptSource, ...] = (builtin_prompts,)


def static_prompts(
    settings: Settings, sources: Sequence[PromptSource] = PROMPT_SOURCES
) -> list[StaticPrompt]:
    """Every prompt known before a call arrives, without duplicates, in source order."""
    seen: set[StaticPrompt] = set()
    prompts: list[StaticPrompt] = []
    for source in sources:
        for prompt in source(settings):
            if prompt not in seen:
                seen.add(prompt)
                prompts.append(prompt)
    return prompts


@click.group("prompts")
def prompts_group() -> None:
    """Text-to-speech prompts (pyttsx3 + espeak-ng, cached as 8 kHz WAV)."""


@prompts_group.command("render")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the rendered prompts go [default: the directory Hotline and Asterisk share].",
)
@click.option(
    "--language",
    "languages",
    type=click.Choice([language.value for language in Language]),
    multiple=True,
    help="Only these languages (repeatable) [default: all].",
)
@click.pass_obj
def render_command(settings: Settings, cache_dir: Path | None, languages: tuple[str, ...]) -> None:
    """Pre-render the static prompts of every language."""
    target = cache_dir or prompt_cache_dir(AsteriskRunner(settings).layout)
    voices = {VOICES[Language(value)] for value in languages} if languages else None
    prompts = [p for p in static_prompts(settings) if voices is None or p[1] in voices]
    console = Console()
    started = time.perf_counter()
    renderer = PromptRenderer(rate=settings.tts_rate)
    try:
        cache = asyncio.run(_render_all(prompts, renderer, target))
    except PromptError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        renderer.close()
    elapsed = time.perf_counter() - started
    console.print(
        f"{len(prompts)} prompts: {cache.stats.renders} rendered, {cache.stats.hits} already "
        f"cached, in {elapsed:.2f} s → {target}"
    )


async def _render_all(
    prompts: list[StaticPrompt], renderer: PromptRenderer, target: Path
) -> PromptCache:
    cache = PromptCache(renderer, target)
    with Progress(
        TextColumn("[bold]rendering prompts"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
    ) as progress:
        task = progress.add_task("", total=len(prompts))
        pending = [asyncio.ensure_future(cache.get(text, voice)) for text, voice in prompts]
        try:
            for finished in asyncio.as_completed(pending):
                prompt = await finished
                progress.update(task, advance=1, description=prompt.text[:40])
        finally:
            for future in pending:
                future.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
    return cache


@click.group("ivr")
def ivr_group() -> None:
    """IVR flows: the dialogues under dialplans/ivr/<language>/."""


@ivr_group.command("check")
@click.argument(
    "directory", required=False, type=click.Path(file_okay=False, path_type=Path), default=None
)
@click.pass_obj
def ivr_check_command(settings: Settings, directory: Path | None) -> None:
    """Validate the flow files (file:line: what is wrong) before anything runs them."""
    problems = check_flows(directory or flows_dir(settings))
    click.echo(check_command_output(problems))
    if problems:
        raise SystemExit(1)


def flows_dir(settings: Settings) -> Path:
    """Where the IVR flow files live."""
    return settings.dialplans_dir / "ivr"
