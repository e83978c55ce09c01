"""The composition root: builds every part of a running Hotline from its settings and
wires them by constructor. Nothing else in the code base creates long-lived parts."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from crm_store.database import Database
from crm_store.gateway import StoreGateway
from cti.ami import AmiClient, Backoff
from cti.asterisk.provisioner import InstanceLayout
from cti.bus import EventBus
from cti.call_tracking import CallJournal, CallTrackingService
from cti.caller_identification import CallerIdentifier
from cti.fastagi import FastAgiServer
from cti.settings import Settings
from cti.tracker import CallTracker
from ivr.cli import hospital_names, prompt_cache_dir
from ivr.greeting import GreetingApp
from ivr.prompts import PromptCache, PromptRenderer
from screenpop.app import create_app
from screenpop.monitoring import MonitorService
from screenpop.server import WebServer

log = logging.getLogger(__name__)


@dataclass
class Hotline:
    """A running Hotline: every long-lived part, for the CLI, the tests and the demo."""

    settings: Settings
    database: Database
    store: StoreGateway
    bus: EventBus
    ami: AmiClient
    tracker: CallTracker
    journal: CallJournal
    tracking: CallTrackingService
    identifier: CallerIdentifier
    prompts: PromptCache
    renderer: PromptRenderer
    agi: FastAgiServer
    web: WebServer
    stopped: bool = False

    @property
    def web_url(self) -> str:
        return self.web.url

    @classmethod
    async def start(
        cls, settings: Settings, layout: InstanceLayout, *, wait_for_ami_s: float | None = 30.0
    ) -> Hotline:
        """Migrate the store, serve FastAGI, then connect to AMI (and resynchronise)."""
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        database = Database(settings.effective_database_url)
        await asyncio.to_thread(database.migrate)
        store = StoreGateway(database)
        bus = EventBus()
        ami = AmiClient(
            host=settings.ami_host,
            port=settings.ami_port,
            username=settings.ami_username,
            secret=settings.ami_secret.get_secret_value(),
            bus=bus,
            backoff=Backoff(settings.ami_reconnect_initial_s, settings.ami_reconnect_max_s),
            action_timeout_s=settings.ami_action_timeout_s,
        )
        tracker = CallTracker(region=settings.country)
        journal = CallJournal(store)
        journal.start()
        identifier = CallerIdentifier(store, region=settings.country)
        tracking = CallTrackingService(
            bus=bus, ami=ami, tracker=tracker, journal=journal, identifier=identifier
        )
        await tracking.start()
        renderer = PromptRenderer(rate=settings.tts_rate)
        prompts = PromptCache(renderer, prompt_cache_dir(layout))
        greeting = GreetingApp(
            identifier=identifier,
            prompts=prompts,
            layout=layout,
            bus=bus,
            default_language=settings.language,
            hospital_names=hospital_names(settings),
        )
        agi = FastAgiServer({"inbound": greeting}, settings.agi_host, settings.agi_port)
        await agi.start()
        web = WebServer(
            create_app(
                store=store,
                bus=bus,
                settings=settings,
                timezone=settings.clinic_timezone,
                monitor=MonitorService(ami=ami, store=store),
            ),
            settings,
        )
        hotline = cls(
            settings=settings,
            database=database,
            store=store,
            bus=bus,
            ami=ami,
            tracker=tracker,
            journal=journal,
            tracking=tracking,
            identifier=identifier,
            prompts=prompts,
            renderer=renderer,
            agi=agi,
            web=web,
        )
        try:
            await web.start()
            await ami.start(wait_s=wait_for_ami_s)
        except BaseException:
            await hotline.stop()
            raise
        return hotline

    async def stop(self) -> None:
        """Stop taking calls, finish writing what is known, close every link."""
        if self.stopped:
            return
        self.stopped = True
        await self.agi.close()
        await self.web.stop()
        await self.ami.close()
        await self.tracking.close()
        await self.bus.drain()
        await self.journal.close()
        await self.bus.close()
        self.renderer.close()
        self.store.close()
        self.database.dispose()
