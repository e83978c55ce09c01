"""The composition root: builds every part of a running Hotline from its settings and
wires them by constructor. Nothing else in the code base creates long-lived parts."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass

from acd.config import announcement_policy, callback_policy, queue_from_setting
from acd.journal import AcdJournal
from acd.model import Agent
from acd.service import AcdService, patient_priority
from acd.wait_prompts import prompt_player
from crm_store.database import Database
from crm_store.gateway import StoreGateway
from cti.ami import AmiClient, Backoff
from cti.asterisk.provisioner import InstanceLayout
from cti.bus import EventBus
from cti.call_tracking import CallJournal, CallTrackingService
from cti.caller_identification import CallerIdentifier
from cti.dialer.offer_call import OfferCallApp
from cti.dialer.reminder_call import FollowUpCallApp, ReminderCallApp
from cti.dialer.service import DialerService
from cti.fastagi import FastAgiServer
from cti.settings import Settings
from cti.tracker import CallTracker
from ivr.action_executor import ActionExecutor
from ivr.audiosocket import AudioHub
from ivr.call_adapter import IvrCallApp
from ivr.cli import flows_dir, hospital_names, prompt_cache_dir
from ivr.flows import FlowEngine, load_flows
from ivr.prompts import PromptCache, PromptRenderer
from ivr.recognition import Recognizer
from ivr.session_journal import IvrJournal
from ivr.voice_messages import VoiceMessageStore
from recordings import MonitorDir, RecordingService
from recordings.acd_link import AcdRecorder
from recordings.announcement import CallerNotice, RenderedNotice
from recordings.housekeeping import Housekeeping
from recordings.voice_message_retention import VoiceMessageRetention
from screenpop.app import create_app
from screenpop.monitoring import MonitorService
from screenpop.server import WebServer

log = logging.getLogger(__name__)


def handover_target(settings: Settings) -> str:
    """Where the IVR sends a caller it hands to a person: Hotline's ACD parks them when it
    distributes calls (agents configured), else Asterisk's queue of agent phones takes them."""
    return "hotline-wait,s,1" if settings.acd_agents else "hotline-agents,s,1"


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
    ivr_journal: IvrJournal
    tracking: CallTrackingService
    identifier: CallerIdentifier
    prompts: PromptCache
    renderer: PromptRenderer
    agi: FastAgiServer
    web: WebServer
    acd: AcdService | None = None
    acd_journal: AcdJournal | None = None
    dialer: DialerService | None = None  # only when settings.dialer.enabled
    audio: AudioHub | None = None
    recordings: RecordingService | None = None
    recorder: AcdRecorder | None = None  # records the ACD's calls (with the ACD)
    housekeeping: Housekeeping | None = None  # retention and checks of recordings
    stopped: bool = False

    @property
    def handover_target(self) -> str:
        return handover_target(self.settings)

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
        flows = await asyncio.to_thread(load_flows, flows_dir(settings))
        audio = None
        if settings.vosk_model_path is not None:
            # Speech only with a configured model of the flows' language; keypad otherwise.
            recognizer = await asyncio.to_thread(Recognizer, settings.vosk_model_path)
            audio = AudioHub(recognizer, settings.audiosocket_host, settings.audiosocket_port)
            await audio.start()
        recordings = RecordingService(
            ami=ami,
            database=database,
            monitor=MonitorDir(layout.monitor_host, layout.monitor_asterisk),
            storage_dir=settings.recordings.storage_under(settings.state_dir),
            policy=settings.recordings.policy(),
        )
        notice = CallerNotice(
            recordings.policy, RenderedNotice(prompts, layout, default=settings.language)
        )
        ivr_journal = IvrJournal(store)
        ivr_journal.start()
        ivr = IvrCallApp(
            engine=FlowEngine(flows, default_language=settings.language.value),
            executor=ActionExecutor(store, settings),
            identifier=identifier,
            prompts=prompts,
            renderer=renderer,
            layout=layout,
            journal=ivr_journal,
            bus=bus,
            hospital_names=hospital_names(settings),
            handover_context=handover_target(settings),
            default_language=settings.language,
            voice_messages=VoiceMessageStore(layout, settings.state_dir / "voice-messages"),
            hub=audio,
            # Recording notice and policy for callers the ACD will bridge ([hotline-wait]).
            handover_variables=notice.for_handover if settings.acd_agents else None,
        )
        dialer_apps = {
            route: app(
                store=store,
                prompts=prompts,
                layout=layout,
                bus=bus,
                policy=settings.dialer,
                hospital_names=hospital_names(settings),
                hub=audio,  # offer calls take a spoken yes/no when a recogniser is set
            )
            for route, app in (
                ("dialer-offer", OfferCallApp),
                ("dialer-reminder", ReminderCallApp),
                ("dialer-follow-up", FollowUpCallApp),
            )
        }
        agi = FastAgiServer({"inbound": ivr, **dialer_apps}, settings.agi_host, settings.agi_port)
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
        acd: AcdService | None = None
        acd_journal: AcdJournal | None = None
        recorder: AcdRecorder | None = None
        housekeeping = Housekeeping(
            recordings,
            interval_s=settings.recordings.housekeeping_hours * 3600,
            voice_messages=VoiceMessageRetention(
                database, settings.recordings.voice_message_retention()
            ),
        )
        if settings.acd_agents:
            acd = AcdService.build(
                bus=bus,
                ami=ami,
                queues=[queue_from_setting(q) for q in settings.acd_queues],
                agents=[
                    Agent(a.id, skills=a.skills, languages=a.languages) for a in settings.acd_agents
                ],
                phones={a.id: a.phone for a in settings.acd_agents},
                priority_of=patient_priority(store),
                prompts=prompt_player(prompts, layout),
                announcements=announcement_policy(settings.acd_announcements),
                callbacks=callback_policy(settings.acd_callbacks),
                region=settings.country,
                callback_recording=notice.variables,  # the patient hears the notice
            )
            acd_journal = AcdJournal(bus, store)
            acd_journal.start()
            acd.restore(await acd_journal.saved_states())
            # Callbacks asked for in the last 12 h and not yet placed keep their places.
            since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=12)
            pending = await acd_journal.pending_callbacks(since)
            acd.restore_callbacks(pending, await acd_journal.callback_findings(pending))
            await acd.start()
            web.app.state.services.acd = acd  # agents set their own state from the console
            recorder = AcdRecorder(bus=bus, service=recordings, store=store)
            await recorder.start()
        web.app.state.services.recordings = recordings  # agents pause, supervisors play
        hotline = cls(
            settings=settings,
            database=database,
            store=store,
            bus=bus,
            ami=ami,
            tracker=tracker,
            journal=journal,
            ivr_journal=ivr_journal,
            tracking=tracking,
            identifier=identifier,
            prompts=prompts,
            renderer=renderer,
            agi=agi,
            web=web,
            acd=acd,
            acd_journal=acd_journal,
            audio=audio,
            recordings=recordings,
            recorder=recorder,
            housekeeping=housekeeping,
        )
        try:
            await web.start()
            await ami.start(wait_s=wait_for_ami_s)
            await housekeeping.start()
            if settings.dialer.enabled:
                hotline.dialer = DialerService(
                    store=store, ami=ami, bus=bus, policy=settings.dialer
                )
                await hotline.dialer.start()
        except BaseException:
            await hotline.stop()
            raise
        return hotline

    async def stop(self) -> None:
        """Stop taking calls, finish writing what is known, close every link."""
        if self.stopped:
            return
        self.stopped = True
        if self.dialer is not None:
            await self.dialer.close()
        await self.agi.close()
        await self.ivr_journal.close()  # the IVR's last sessions end as the AGI closes
        if self.acd is not None:
            await self.acd.close()
        if self.audio is not None:
            await self.audio.close()
            self.audio.recognizer.close()
        await self.web.stop()
        await self.ami.close()
        await self.tracking.close()
        await self.bus.drain()
        if self.housekeeping is not None:
            await self.housekeeping.close()
        if self.recorder is not None:
            await self.recorder.close()
        if self.acd_journal is not None:
            await self.acd_journal.close()
        await self.journal.close()
        await self.bus.close()
        self.renderer.close()
        self.store.close()
        self.database.dispose()
