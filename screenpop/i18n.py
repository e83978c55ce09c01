# ruff: noqa: RUF001  (Chinese UI text uses full-width punctuation on purpose)
"""UI text in Chinese and English, and the choice between them.

The language is, in order: ``?lang=`` on the request (remembered in a cookie), the
cookie, the browser's ``Accept-Language``, then Hotline's prompt language setting.
Every key exists in both languages (a test checks it).
"""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("zh", "en")
LANG_COOKIE = "hotline_lang"

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "app_name": "Hotline",
        "skip_to_content": "Skip to content",
        "nav_home": "Home",
        "nav_calls": "Live calls",
        "nav_recordings": "Recordings",
        "rec_title": "Recordings",
        "rec_from": "From",
        "rec_to": "To",
        "rec_agent": "Agent id",
        "rec_queue": "Queue",
        "rec_mrn": "Patient MRN",
        "rec_search": "Search",
        "rec_none": "No recordings match.",
        "rec_started": "Started",
        "rec_duration": "Length (s)",
        "rec_patient": "Patient",
        "rec_status": "File",
        "rec_play": "Play",
        "rec_download": "Download",
        "rec_status_verified": "verified",
        "rec_status_missing": "missing — reported",
        "rec_status_damaged": "damaged — reported",
        "rec_status_deleted": "deleted",
        "error_recording_unavailable": "This recording's file is missing or damaged. "
        "It has been reported to the administrators.",
        "signed_in_as": "Signed in as {name} ({role})",
        "logout": "Sign out",
        "language": "Language",
        "role_agent": "agent",
        "role_supervisor": "supervisor",
        "role_admin": "administrator",
        "login_title": "Sign in",
        "login_intro": "Sign in with your Hotline console account.",
        "username": "Username",
        "password": "Password",
        "login_button": "Sign in",
        "logged_out": "You have signed out.",
        "home_title": "Console",
        "home_intro": "Welcome, {name}.",
        "home_agent_pending": "The agent console with screen pops is not available yet.",
        "home_calls_link": "Watch live calls",
        "calls_title": "Live calls",
        "calls_active": "Calls in progress",
        "calls_ended": "Last {n} ended calls",
        "calls_none_active": "No calls in progress.",
        "calls_none_ended": "No ended calls yet.",
        "col_caller": "Caller",
        "col_patient": "Patient",
        "col_direction": "Direction",
        "col_arrived": "Arrived",
        "col_answered": "Answered",
        "col_ended": "Ended",
        "col_duration": "Duration",
        "col_cause": "Hang-up cause",
        "direction_inbound": "Inbound",
        "direction_outbound": "Outbound",
        "direction_internal": "Internal",
        "direction_unknown": "Unknown",
        "number_withheld": "Withheld",
        "patient_unknown": "—",
        "not_yet": "—",
        "live_connecting": "Connecting to live updates…",
        "live_connected": "Live: updates appear as calls change.",
        "live_disconnected": "Live updates interrupted; reconnecting…",
        "live_signed_out": "Your session ended. Sign in again to see live calls.",
        "live_count": "{active} calls in progress",
        "error_title": "Something went wrong",
        "error_generic": "The request could not be completed.",
        "error_not_authenticated": "Please sign in.",
        "error_session_expired": "Your session has expired. Please sign in again.",
        "error_login_refused": "Wrong username or password.",
        "error_forbidden": "This page is for supervisors and administrators. "
        "You are signed in as {role}.",
        "error_cross_origin": "This request came from another website and was refused.",
        "error_too_many_attempts": "Too many failed sign-ins. Try again in {minutes} minutes.",
        "error_audit_unavailable": "Patient data cannot be shown right now because the access "
        "could not be recorded. Try again in a moment.",
        "error_invalid_request": "The form was incomplete or invalid: {fields}.",
        "error_not_found": "There is nothing at this address.",
        "forbidden_title": "Not allowed",
        "back_home": "Back to the console home",
        "cause_16": "Normal clearing",
        "cause_17": "Busy",
        "cause_18": "No response",
        "cause_19": "No answer",
        "cause_21": "Rejected",
        "cause_27": "Destination out of order",
        "cause_34": "No circuit available",
        "cause_38": "Network out of order",
        "cause_127": "Interworking, unspecified",
        "cause_0": "Not reported",
        "cause_lost": "Ended while Hotline was not connected",
        "nav_dialer": "Dialer",
        "dialer_title": "Outbound dialer",
        "dialer_period": "Figures over",
        "dialer_days": "the last {n} days",
        "dialer_show": "Show",
        "dialer_figures": "Refilled places, last {n} days",
        "fig_fill_rate": "Fill rate",
        "fig_fill_detail": "{filled} of {closed} finished refills",
        "fig_time_to_fill": "Median time to fill",
        "fig_p90": "90% within {value}",
        "fig_calls_per_fill": "Calls per fill",
        "fig_calls": "{n} offer calls",
        "fig_revenue": "Revenue recovered",
        "fig_freed": "{freed} freed · {open} still offered · {otherwise} booked otherwise · "
        "{none} not refilled",
        "chart_caption": "Places freed per day ({freed}) and refilled by the dialer ({filled}).",
        "chart_freed": "freed",
        "chart_filled": "refilled",
        "chart_bar_title": "{freed} freed, {filled} refilled",
        "dialer_running": "Offer calls in progress",
        "dialer_none_running": "No offer calls in progress.",
        "dialer_history": "Refill history",
        "dialer_slot_history": "Refill history of slot {slot}",
        "dialer_all_slots": "All slots",
        "dialer_none_history": "No freed places yet.",
        "dialer_reminders": "Reminder and follow-up calls",
        "dialer_none_reminders": "No reminder or follow-up calls yet.",
        "col_offer": "Offer",
        "col_refill": "Refill",
        "col_patient_id": "Patient no.",
        "col_started": "Started",
        "col_slot": "Slot",
        "col_slot_starts": "Slot starts",
        "col_freed_by": "Freed by",
        "col_freed_at": "Freed at",
        "col_status": "Status",
        "col_closed_at": "Closed at",
        "col_calls": "Calls",
        "col_kind": "Kind",
        "col_appointment": "Appointment",
        "col_result": "Result",
        "col_answers": "Survey answers",
        "freed_by_cancelled": "Cancellation",
        "freed_by_no_show": "No-show",
        "refill_status_open": "Being offered",
        "refill_status_filled": "Refilled",
        "refill_status_too_soon": "Too soon",
        "refill_status_exhausted": "Nobody left to call",
        "refill_status_disabled": "Dialer off",
        "call_result_pending": "in progress",
        "call_result_accepted": "accepted",
        "call_result_slot_taken": "accepted, but just taken",
        "call_result_declined": "declined",
        "call_result_no_input": "no choice made",
        "call_result_no_answer": "no answer",
        "call_result_busy": "busy",
        "call_result_machine": "answering machine",
        "call_result_failed": "failed",
        "reminder_kind_reminder": "Reminder",
        "reminder_kind_follow_up": "Follow-up",
        "reminder_result_pending": "In progress",
        "reminder_result_confirmed": "Confirmed",
        "reminder_result_completed": "Survey completed",
        "reminder_result_cancelled": "Cancelled by patient",
        "reminder_result_no_input": "No choice made",
        "reminder_result_no_answer": "No answer",
        "reminder_result_busy": "Busy",
        "reminder_result_machine": "Answering machine",
        "reminder_result_failed": "Failed",
    },
    "zh": {
        "app_name": "热线",
        "skip_to_content": "跳到正文",
        "nav_home": "首页",
        "nav_calls": "实时通话",
        "nav_recordings": "通话录音",
        "rec_title": "通话录音",
        "rec_from": "开始日期",
        "rec_to": "结束日期",
        "rec_agent": "坐席编号",
        "rec_queue": "队列",
        "rec_mrn": "病历号",
        "rec_search": "查询",
        "rec_none": "没有符合条件的录音。",
        "rec_started": "开始时间",
        "rec_duration": "时长（秒）",
        "rec_patient": "患者",
        "rec_status": "文件",
        "rec_play": "播放",
        "rec_download": "下载",
        "rec_status_verified": "已校验",
        "rec_status_missing": "缺失——已上报",
        "rec_status_damaged": "损坏——已上报",
        "rec_status_deleted": "已删除",
        "error_recording_unavailable": "此录音文件缺失或已损坏，已报告管理员。",
        "signed_in_as": "当前用户：{name}（{role}）",
        "logout": "退出登录",
        "language": "语言",
        "role_agent": "坐席",
        "role_supervisor": "班长",
        "role_admin": "管理员",
        "login_title": "登录",
        "login_intro": "请使用热线控制台账号登录。",
        "username": "用户名",
        "password": "密码",
        "login_button": "登录",
        "logged_out": "您已退出登录。",
        "home_title": "控制台",
        "home_intro": "欢迎，{name}。",
        "home_agent_pending": "带弹屏的坐席控制台尚未开放。",
        "home_calls_link": "查看实时通话",
        "calls_title": "实时通话",
        "calls_active": "进行中的通话",
        "calls_ended": "最近结束的 {n} 个通话",
        "calls_none_active": "当前没有进行中的通话。",
        "calls_none_ended": "还没有已结束的通话。",
        "col_caller": "来电号码",
        "col_patient": "患者",
        "col_direction": "方向",
        "col_arrived": "呼入时间",
        "col_answered": "接听时间",
        "col_ended": "结束时间",
        "col_duration": "时长",
        "col_cause": "挂断原因",
        "direction_inbound": "呼入",
        "direction_outbound": "呼出",
        "direction_internal": "内部",
        "direction_unknown": "未知",
        "number_withheld": "号码未显示",
        "patient_unknown": "—",
        "not_yet": "—",
        "live_connecting": "正在连接实时更新…",
        "live_connected": "实时：通话变化会自动显示。",
        "live_disconnected": "实时更新中断，正在重新连接…",
        "live_signed_out": "会话已结束，请重新登录后查看实时通话。",
        "live_count": "进行中的通话：{active} 个",
        "error_title": "出错了",
        "error_generic": "请求未能完成。",
        "error_not_authenticated": "请先登录。",
        "error_session_expired": "会话已过期，请重新登录。",
        "error_login_refused": "用户名或密码错误。",
        "error_forbidden": "此页面仅供班长和管理员使用。您当前的角色是：{role}。",
        "error_cross_origin": "该请求来自其他网站，已被拒绝。",
        "error_too_many_attempts": "登录失败次数过多，请 {minutes} 分钟后再试。",
        "error_audit_unavailable": "无法记录本次访问，暂不显示患者信息。请稍后再试。",
        "error_invalid_request": "表单不完整或有误：{fields}。",
        "error_not_found": "此地址没有内容。",
        "forbidden_title": "无权访问",
        "back_home": "返回控制台首页",
        "cause_16": "正常挂断",
        "cause_17": "忙线",
        "cause_18": "无响应",
        "cause_19": "无人接听",
        "cause_21": "被拒绝",
        "cause_27": "目标故障",
        "cause_34": "无可用线路",
        "cause_38": "网络故障",
        "cause_127": "互通错误",
        "cause_0": "未报告",
        "cause_lost": "在热线未连接时结束",
        "nav_dialer": "外呼",
        "dialer_title": "自动外呼",
        "dialer_period": "统计范围",
        "dialer_days": "最近 {n} 天",
        "dialer_show": "显示",
        "dialer_figures": "号源回补（最近 {n} 天）",
        "fig_fill_rate": "回补率",
        "fig_fill_detail": "已结束的 {closed} 个号源中回补 {filled} 个",
        "fig_time_to_fill": "回补时间中位数",
        "fig_p90": "90% 在 {value} 内",
        "fig_calls_per_fill": "每次回补的外呼数",
        "fig_calls": "共 {n} 通邀约电话",
        "fig_revenue": "挽回收入",
        "fig_freed": "释放 {freed} 个 · 邀约中 {open} 个 · 其他途径预约 {otherwise} 个 · "
        "未回补 {none} 个",
        "chart_caption": "每日释放的号源（{freed}）与外呼回补的号源（{filled}）。",
        "chart_freed": "释放",
        "chart_filled": "回补",
        "chart_bar_title": "释放 {freed} 个，回补 {filled} 个",
        "dialer_running": "进行中的邀约电话",
        "dialer_none_running": "当前没有进行中的邀约电话。",
        "dialer_history": "回补记录",
        "dialer_slot_history": "号源 {slot} 的回补记录",
        "dialer_all_slots": "全部号源",
        "dialer_none_history": "还没有释放的号源。",
        "dialer_reminders": "提醒与回访电话",
        "dialer_none_reminders": "还没有提醒或回访电话。",
        "col_offer": "邀约",
        "col_refill": "回补",
        "col_patient_id": "患者编号",
        "col_started": "开始时间",
        "col_slot": "号源",
        "col_slot_starts": "就诊时间",
        "col_freed_by": "释放原因",
        "col_freed_at": "释放时间",
        "col_status": "状态",
        "col_closed_at": "结束时间",
        "col_calls": "外呼",
        "col_kind": "类型",
        "col_appointment": "预约",
        "col_result": "结果",
        "col_answers": "问卷回答",
        "freed_by_cancelled": "取消预约",
        "freed_by_no_show": "爽约",
        "refill_status_open": "邀约中",
        "refill_status_filled": "已回补",
        "refill_status_too_soon": "时间太近",
        "refill_status_exhausted": "无人可呼",
        "refill_status_disabled": "外呼已关闭",
        "call_result_pending": "进行中",
        "call_result_accepted": "已接受",
        "call_result_slot_taken": "接受时已被预约",
        "call_result_declined": "已拒绝",
        "call_result_no_input": "未选择",
        "call_result_no_answer": "无人接听",
        "call_result_busy": "忙线",
        "call_result_machine": "语音信箱",
        "call_result_failed": "失败",
        "reminder_kind_reminder": "就诊提醒",
        "reminder_kind_follow_up": "诊后回访",
        "reminder_result_pending": "进行中",
        "reminder_result_confirmed": "已确认",
        "reminder_result_completed": "问卷已完成",
        "reminder_result_cancelled": "患者已取消",
        "reminder_result_no_input": "未选择",
        "reminder_result_no_answer": "无人接听",
        "reminder_result_busy": "忙线",
        "reminder_result_machine": "语音信箱",
        "reminder_result_failed": "失败",
    },
}


class Translator:
    """``t("key", name=...)`` in one language, falling back to English for a missing key."""

    def __init__(self, language: str) -> None:
        self.language = language if language in MESSAGES else "en"
        self._messages = MESSAGES[self.language]

    def __call__(self, key: str, **values: object) -> str:
        text = self._messages.get(key) or MESSAGES["en"].get(key) or key
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self._messages

    def catalogue(self, prefixes: tuple[str, ...]) -> dict[str, str]:
        """The messages whose keys start with one of ``prefixes`` (for the browser)."""
        return {k: v for k, v in self._messages.items() if k.startswith(prefixes)}


def negotiate(
    *,
    query: str | None,
    cookie: str | None,
    accept_language: str | None,
    default: str,
) -> str:
    """The UI language for a request (see the module docstring)."""
    for choice in (query, cookie):
        if choice in LANGUAGES:
            return choice
    for tag, _q in _parse_accept_language(accept_language or ""):
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return default if default in LANGUAGES else "zh"


def _parse_accept_language(header: str) -> list[tuple[str, float]]:
    entries: list[tuple[str, float]] = []
    for part in header[:500].split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            entries.append((tag.lower(), q))
    return sorted(entries, key=lambda e: -e[1])


def role_label(t: Translator, role: str) -> str:
    return t(f"role_{role}")


def cause_label(t: Translator, cause: int | None, text: str | None) -> str:
    """A hang-up cause for people: a translated Q.850 name where we have one, else the
    text Asterisk gave, else the number."""
    if text and "AMI link was down" in text:
        return t("cause_lost")
    if cause is not None and t.has(f"cause_{cause}"):
        return t(f"cause_{cause}")
    if text:
        return text
    return "" if cause is None else str(cause)


def missing_translations(messages: Mapping[str, Mapping[str, str]] = MESSAGES) -> set[str]:
    """Keys missing from one of the languages (empty when complete)."""
    keys = [set(m) for m in messages.values()]
    every: set[str] = set().union(*keys)
    return {key for key in every if not all(key in k for k in keys)}
