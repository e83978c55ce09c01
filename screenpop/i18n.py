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
    },
}


#: The agent console's text (kept apart so the console's keys are easy to review).
CONSOLE_MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "home_console_link": "Open the agent console",
        "nav_console": "Agent console",
        "con_title": "Agent console",
        "con_state": "My state",
        "con_available": "Available",
        "con_pause": "Pause",
        "con_end_wrap_up": "End wrap-up",
        "con_logout_acd": "Log out of calls",
        "con_pause_reason": "Pause reason",
        "con_shortcuts": "Shortcuts: Alt+A available, Alt+P pause, Alt+W end wrap-up, "
        "Alt+L log out of calls, Alt+B book",
        "con_live_connected": "Connected: calls offered to you appear here.",
        "con_live_connecting": "Connecting…",
        "con_live_disconnected": "Connection lost; reconnecting…",
        "con_no_call": "No call offered to you right now.",
        "con_ringing": "Ringing — answer your phone",
        "con_answered": "On call",
        "con_ended": "Call ended — wrap up",
        "con_withdrawn": "The call was taken back",
        "con_unknown": "Unknown number",
        "con_verified": "Identity verified",
        "con_not_verified": "Identity not verified",
        "con_vip": "VIP",
        "con_chronic": "Chronic care",
        "con_mrn": "Record no.",
        "con_born": "Born",
        "con_allergies": "Allergies",
        "con_care_notes": "Care notes",
        "con_queue": "Queue",
        "con_waited": "Waited {s} s",
        "con_ivr": "In the IVR",
        "con_ivr_intent": "Wanted",
        "con_ivr_heard": "Last heard",
        "con_ivr_reason": "Handed over because",
        "con_upcoming": "Upcoming appointments",
        "con_recent": "Recent appointments",
        "con_calls": "Recent calls",
        "con_complaints": "Open complaints",
        "con_none": "None",
        "con_when": "When",
        "con_department": "Department",
        "con_doctor": "Doctor",
        "con_reference": "Reference",
        "con_status": "Status",
        "con_cancel": "Cancel",
        "con_reschedule": "Reschedule",
        "con_book_title": "Book an appointment",
        "con_show_slots": "Show free slots",
        "con_book": "Book",
        "con_move_here": "Move here",
        "con_places": "{n} left",
        "con_no_slots": "No free slots in the next 30 days.",
        "con_rescheduling": "Choose the new slot for {ref}.",
        "con_booked": "Booked: reference {ref}.",
        "con_cancelled": "Cancelled {ref}.",
        "con_moved": "Moved: new reference {ref}.",
        "con_complaint_title": "Open a complaint",
        "con_category": "Category",
        "con_description": "What happened",
        "con_open_complaint": "Open complaint",
        "con_ticket": "Complaint opened: ticket {ticket}.",
        "con_register_title": "Register the caller as a new patient",
        "con_full_name": "Full name",
        "con_number": "Phone number",
        "con_register": "Register",
        "con_registered": "Registered.",
        "con_failed": "Not done: {message}",
        "state_logged_out": "Logged out",
        "state_available": "Available",
        "state_ringing": "Ringing",
        "state_on_call": "On call",
        "state_wrap_up": "Wrap-up",
        "state_paused": "Paused",
        "state_not_responding": "Not responding",
        "state_none": "Not an ACD agent",
        "pause_break": "Break",
        "pause_meal": "Meal",
        "pause_training": "Training",
        "pause_meeting": "Meeting",
        "pause_admin": "Paperwork",
        "pause_toilet": "Comfort break",
        "pause_after-restart": "After a restart",
        "cat_service": "Service",
        "cat_waiting_time": "Waiting time",
        "cat_staff_attitude": "Staff attitude",
        "cat_medical_care": "Medical care",
        "cat_billing": "Billing",
        "cat_facilities": "Facilities",
        "cat_other": "Other",
        "con_wrap_title": "Notes and disposition",
        "con_disposition": "Disposition",
        "con_notes": "Notes",
        "con_save_wrap": "Save notes",
        "con_wrap_saved": "Notes and disposition saved.",
        "disp_resolved": "Resolved",
        "disp_booked": "Appointment booked",
        "disp_changed": "Appointment changed or cancelled",
        "disp_information": "Information given",
        "disp_complaint": "Complaint taken",
        "disp_call_back": "Call back needed",
        "disp_wrong_number": "Wrong number",
        "disp_other": "Other",
        "error_not_your_call": "This call is not one offered to you.",
        "error_no_patient": "The caller is not a registered patient yet.",
        "error_patient_known": "The caller is already a registered patient.",
        "error_agent_state": "Your state cannot be changed that way now.",
    },
    "zh": {
        "home_console_link": "打开坐席控制台",
        "nav_console": "坐席控制台",
        "con_title": "坐席控制台",
        "con_state": "我的状态",
        "con_available": "就绪",
        "con_pause": "小休",
        "con_end_wrap_up": "结束话后处理",
        "con_logout_acd": "签出话务",
        "con_pause_reason": "小休原因",
        "con_shortcuts": "快捷键：Alt+A 就绪，Alt+P 小休，Alt+W 结束话后处理，"
        "Alt+L 签出话务，Alt+B 预约",
        "con_live_connected": "已连接：分配给您的来电会显示在这里。",
        "con_live_connecting": "正在连接…",
        "con_live_disconnected": "连接中断，正在重连…",
        "con_no_call": "当前没有分配给您的来电。",
        "con_ringing": "振铃中——请接听电话",
        "con_answered": "通话中",
        "con_ended": "通话已结束——请完成话后处理",
        "con_withdrawn": "该来电已被收回",
        "con_unknown": "未知号码",
        "con_verified": "身份已核实",
        "con_not_verified": "身份未核实",
        "con_vip": "贵宾",
        "con_chronic": "慢病",
        "con_mrn": "病历号",
        "con_born": "出生日期",
        "con_allergies": "过敏",
        "con_care_notes": "护理备注",
        "con_queue": "队列",
        "con_waited": "已等待 {s} 秒",
        "con_ivr": "语音导航中",
        "con_ivr_intent": "来电目的",
        "con_ivr_heard": "最后识别",
        "con_ivr_reason": "转人工原因",
        "con_upcoming": "即将到来的预约",
        "con_recent": "近期预约",
        "con_calls": "近期来电",
        "con_complaints": "未结投诉",
        "con_none": "无",
        "con_when": "时间",
        "con_department": "科室",
        "con_doctor": "医生",
        "con_reference": "预约号",
        "con_status": "状态",
        "con_cancel": "取消",
        "con_reschedule": "改约",
        "con_book_title": "预约挂号",
        "con_show_slots": "查看可约号源",
        "con_book": "预约",
        "con_move_here": "改到此时段",
        "con_places": "余 {n}",
        "con_no_slots": "未来 30 天内没有可约号源。",
        "con_rescheduling": "请为 {ref} 选择新的时段。",
        "con_booked": "预约成功：预约号 {ref}。",
        "con_cancelled": "已取消 {ref}。",
        "con_moved": "改约成功：新预约号 {ref}。",
        "con_complaint_title": "登记投诉",
        "con_category": "类别",
        "con_description": "投诉内容",
        "con_open_complaint": "提交投诉",
        "con_ticket": "投诉已登记：工单号 {ticket}。",
        "con_register_title": "将来电者登记为新患者",
        "con_full_name": "姓名",
        "con_number": "电话号码",
        "con_register": "登记",
        "con_registered": "登记成功。",
        "con_failed": "未完成：{message}",
        "state_logged_out": "已签出",
        "state_available": "就绪",
        "state_ringing": "振铃",
        "state_on_call": "通话中",
        "state_wrap_up": "话后处理",
        "state_paused": "小休",
        "state_not_responding": "未应答",
        "state_none": "未配置为话务坐席",
        "pause_break": "休息",
        "pause_meal": "用餐",
        "pause_training": "培训",
        "pause_meeting": "会议",
        "pause_admin": "文书工作",
        "pause_toilet": "如厕",
        "pause_after-restart": "系统重启后",
        "cat_service": "服务",
        "cat_waiting_time": "等候时间",
        "cat_staff_attitude": "工作人员态度",
        "cat_medical_care": "医疗质量",
        "cat_billing": "收费",
        "cat_facilities": "设施",
        "cat_other": "其他",
        "con_wrap_title": "备注与处理结果",
        "con_disposition": "处理结果",
        "con_notes": "备注",
        "con_save_wrap": "保存备注",
        "con_wrap_saved": "备注与处理结果已保存。",
        "disp_resolved": "已解决",
        "disp_booked": "已预约",
        "disp_changed": "已改约或取消",
        "disp_information": "已答复咨询",
        "disp_complaint": "已受理投诉",
        "disp_call_back": "需回电",
        "disp_wrong_number": "打错电话",
        "disp_other": "其他",
        "error_not_your_call": "该来电不是分配给您的。",
        "error_no_patient": "来电者尚未登记为患者。",
        "error_patient_known": "来电者已是登记患者。",
        "error_agent_state": "当前状态下无法这样切换。",
    },
}
for _language, _messages in CONSOLE_MESSAGES.items():
    MESSAGES[_language].update(_messages)


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
