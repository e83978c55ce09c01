"""Fixtures of the ACD's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import pytest

from acd.model import Agent, Queue
from acd.service import AcdService
from cti.ami import AmiClient
from cti.asterisk import AsteriskRunner
from cti.bus import EventBus
from cti.settings import Settings
from tests.acd.live import QUEUES, Rig, Seen
from tests.fixtures.hotline import CallerSide


@pytest.fixture
async def make_rig(
    asterisk: AsteriskRunner, test_settings: Settings, caller_ami: CallerSide
) -> AsyncIterator[Callable[[Mapping[str, str]], Any]]:
    built: list[tuple[AcdService, AmiClient, EventBus]] = []

    async def build(
        phones: Mapping[str, str],
        *,
        queues: Sequence[Queue] = QUEUES,
        settings: Settings = test_settings,
        **options: Any,
    ) -> Rig:
        bus = EventBus()
        seen = Seen()
        bus.subscribe("test-acd", ["acd.*"], seen.add)
        ami = AmiClient.from_settings(settings, bus)
        agents = [Agent(a, skills={"general": 3}, languages={"zh": 5}) for a in phones]
        service = AcdService.build(
            bus=bus, ami=ami, queues=queues, agents=agents, phones=phones, **options
        )
        await service.start()
        await ami.start(wait_s=30)
        built.append((service, ami, bus))
        return Rig(service, bus, seen, caller_ami)

    yield build
    for service, ami, bus in built:
        await service.close()
        await ami.close()
        await bus.close()
