"""Fixtures of the speech-out tests: real pyttsx3 + espeak-ng + sox (installed by the
setup command); nothing here is faked unless a test says so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr.prompts import PromptCache, PromptRenderer


@pytest.fixture
def renderer() -> Iterator[PromptRenderer]:
    """A fresh renderer (its own render counter) on the process's one espeak engine."""
    renderer = PromptRenderer(rate=160)
    yield renderer
    renderer.close()


@pytest.fixture
def cache(renderer: PromptRenderer, tmp_path: Path) -> PromptCache:
    return PromptCache(renderer, tmp_path / "prompts")
