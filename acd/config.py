"""The ACD's configuration from Hotline's settings (cti/settings.py) as the core's values."""

from __future__ import annotations

from acd.announcements import AnnouncementPolicy
from acd.callbacks import CallbackPolicy
from acd.model import OverflowKind, OverflowRule, Queue
from cti.settings import AcdAnnouncementSetting, AcdCallbackSetting, AcdQueueSetting


def queue_from_setting(setting: AcdQueueSetting) -> Queue:
    """The :class:`Queue` a setting describes, with its overflow rule (if any)."""
    rule: OverflowRule | None = None
    if setting.overflow_to_queue:
        rule = OverflowRule(
            OverflowKind.QUEUE,
            setting.overflow_to_queue,
            when_no_agents=setting.overflow_when_no_agents,
        )
    elif setting.overflow_message:
        rule = OverflowRule(
            OverflowKind.MESSAGE,
            setting.overflow_message,
            when_no_agents=setting.overflow_when_no_agents,
            then_fallback=setting.overflow_then_fallback,
        )
    return Queue(
        setting.name,
        skill=setting.skill,
        language=setting.language,
        ring_timeout_s=setting.ring_timeout_s,
        wrap_up_s=setting.wrap_up_s,
        service_level_target_s=setting.service_level_target_s,
        max_waiting=setting.max_waiting,
        max_wait_s=setting.max_wait_s,
        overflow=rule,
    )


def callback_policy(setting: AcdCallbackSetting | None) -> CallbackPolicy | None:
    if setting is None:
        return None
    return CallbackPolicy(
        setting.dial_template,
        max_attempts=setting.max_attempts,
        retry_after_s=setting.retry_after_s,
        ring_s=setting.ring_s,
    )


def announcement_policy(setting: AcdAnnouncementSetting | None) -> AnnouncementPolicy | None:
    if setting is None:
        return None
    return AnnouncementPolicy(
        first_after_s=setting.first_after_s, every_s=setting.every_s, min_wait_s=setting.min_wait_s
    )
