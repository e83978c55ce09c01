"""Telling callers before they are recorded.

The IVR's hand-over sets :func:`recordings.policy.caller_variables` on the caller's
channel. ``[hotline-wait]`` then plays the notice (``Gosub(hotline-record-notice)``) in
the caller's language BEFORE it tells the ACD the caller is parked, so no agent can be
bridged in while the notice plays; the agent's leg records (``[hotline-record-agent]``)
only if the caller heard it to the end.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from cti.asterisk.provisioner import InstanceLayout
from cti.handover import Handover
from cti.settings import Language
from ivr.prompts import PromptCache, PromptError
from ivr.speech_text import recording_notice_text
from recordings.errors import InvalidRecordingRequest
from recordings.policy import QueuePolicy, RecordingPolicy, caller_variables, check_queue

log = logging.getLogger(__name__)

#: The notice in a language, as Asterisk plays it (no extension); None if unavailable.
NoticeFile = Callable[[str], Awaitable[str | None]]


class RenderedNotice:
    """The "this call may be recorded" prompt from the prompt cache (rendered by
    ``hotline prompts render`` beforehand, or now on the first caller)."""

    def __init__(self, prompts: PromptCache, layout: InstanceLayout, default: Language) -> None:
        self.prompts = prompts
        self.layout = layout
        self.default = default

    async def __call__(self, language: str) -> str | None:
        try:
            spoken = Language(language)
        except ValueError:  # a flow language without its own notice
            spoken = self.default
        try:
            prompt = await self.prompts.get(recording_notice_text(spoken), spoken)
            return str(self.layout.to_asterisk(prompt.path_without_extension))
        except (PromptError, ValueError) as exc:
            log.error("no recording notice in %s (%s): this call is not recorded", spoken, exc)
            return None


class CallerNotice:
    """What a hand-over sets on the caller's channel so Asterisk announces and records
    as the queue's policy says (the IVR's ``handover_variables`` hook)."""

    def __init__(self, policy: RecordingPolicy, notice_file: NoticeFile) -> None:
        self.policy = policy
        self.notice_file = notice_file

    async def variables(self, queue: str, language: str) -> dict[str, str]:
        policy = self.policy.for_queue(check_queue(queue))
        notice = None
        if policy.record and policy.announce:
            notice = await self.notice_file(language)
        return caller_variables(policy, notice)

    async def for_handover(self, handover: Handover) -> dict[str, str]:
        try:
            return await self.variables(handover.queue, handover.language)
        except InvalidRecordingRequest as exc:
            log.error("hand-over of %s not recorded: %s", handover.uniqueid, exc)
            return caller_variables(QueuePolicy(record=False), None)
