"""``hotline serve``, ``hotline demo`` and ``hotline call``: running the service and
placing simulated calls through the real Asterisk."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
from rich.console import Console

from cti.ami import AmiClient
from cti.asterisk.provisioner import AsteriskRunner
from cti.bus import EventBus
from cti.errors import CtiError
from cti.service import Hotline
from cti.settings import Language, Settings
from cti.simulator import SimulatedCaller, keys, place_call, play, silence
from ivr.cli import prompt_cache_dir
from ivr.prompts import PromptCache, PromptError, PromptRenderer

console = Console()
T = TypeVar("T")


def _run(main: Callable[[], Awaitable[T]]) -> T:
    try:
        return asyncio.run(main())  # type: ignore[arg-type]
    except CtiError as exc:
        raise click.ClickException(str(exc)) from exc


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


@click.command("serve")
@click.pass_obj
def serve_command(settings: Settings) -> None:
    """Run Hotline: FastAGI for the dialplan, the AMI link, call tracking, the store."""

    async def main() -> None:
        layout = AsteriskRunner(settings).layout
        hotline = await Hotline.start(settings, layout, wait_for_ami_s=None)
        console.print(
            f"Hotline serving FastAGI on {settings.agi_host}:{settings.agi_port}, "
            f"AMI {settings.ami_host}:{settings.ami_port}, store "
            f"{hotline.database.dialect}, web console {hotline.web_url}. Ctrl-C stops."
        )
        try:
            await _until_signalled()
        finally:
            await hotline.stop()

    _run(main)


@click.group("call")
def call_group() -> None:
    """Place simulated calls through the real Asterisk (tests, demos, checks)."""


@call_group.command("place")
@click.option("--number", default="13800138000", show_default=True, help="Caller ID number.")
@click.option("--name", default=None, help="Caller ID name.")
@click.option("--withheld", is_flag=True, help="Present the number as withheld.")
@click.option("--say", multiple=True, help="Text the caller speaks (TTS; repeatable).")
@click.option(
    "--voice", default="zh", show_default=True, help="Voice of --say: zh, en, or an espeak-ng id."
)
@click.option("--audio", multiple=True, help="WAV to play, as Asterisk sees it (repeatable).")
@click.option("--keys", "digits", default="", help="DTMF to key after the audio.")
@click.option("--silence", "silent_s", default=0, help="Seconds of silence after the audio.")
@click.option("--hold", "hold_s", default=10, show_default=True, help="Seconds before hanging up.")
@click.pass_obj
def place_command(
    settings: Settings,
    number: str,
    name: str | None,
    withheld: bool,
    say: tuple[str, ...],
    voice: str,
    audio: tuple[str, ...],
    digits: str,
    silent_s: int,
    hold_s: int,
) -> None:
    """Call the hotline as a patient would, with this caller ID and these sounds."""

    async def main() -> None:
        script = [play(path) for path in await _spoken_files(settings, say, voice)]
        script += [play(a) for a in audio]
        if silent_s:
            script.append(silence(silent_s))
        if digits:
            script.append(keys(digits))
        caller = SimulatedCaller(
            number=number, name=name, withheld=withheld, script=script, hold_s=hold_s
        )
        async with _ami(settings) as ami:
            placed = await place_call(ami, caller)
        console.print(f"placed: channel {placed.channel} (uniqueid {placed.uniqueid})")

    _run(main)


async def _spoken_files(settings: Settings, texts: tuple[str, ...], voice: str) -> list[str]:
    """Render what the simulated caller says into the directory Asterisk reads."""
    if not texts:
        return []
    layout = AsteriskRunner(settings).layout
    renderer = PromptRenderer(rate=settings.tts_rate)
    try:
        cache = PromptCache(renderer, prompt_cache_dir(layout))
        language_or_voice: Language | str = voice
        if voice in {language.value for language in Language}:
            language_or_voice = Language(voice)
        files = [await cache.get(text, language_or_voice) for text in texts]
    except PromptError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        renderer.close()
    return [str(layout.to_asterisk(f.path_without_extension)) for f in files]


@contextlib.asynccontextmanager
async def _ami(settings: Settings) -> Any:
    bus = EventBus()
    ami = AmiClient.from_settings(settings, bus)
    await ami.start(wait_s=15)
    try:
        yield ami
    finally:
        await ami.close()
        await bus.close()
