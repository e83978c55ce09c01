"""Sample data: a realistic hospital for development, the demo and benchmarks.

``seed_database(database, patients=N, seed=42)`` fills an EMPTY, migrated store with
departments, doctors, eight weeks of clinic sessions (four past, four ahead) cut into
15-minute slots, patients with Chinese and English names, their numbers (some shared by
family members), past and upcoming appointments, a waitlist, calls and complaints, and
three console users with development passwords:

    admin / hotline-admin-dev        (admin)
    supervisor / hotline-supervisor-dev  (supervisor)
    agent / hotline-agent-dev        (agent, extension 1001)

The same seed gives the same data. Rows are written with Core ``executemany`` in batches
with explicit ids (sequences are moved past them on PostgreSQL), so a million patients
take minutes, not hours.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, text

from crm_store.database import Database
from crm_store.enums import (
    AppointmentStatus,
    BookingChannel,
    CallDirection,
    ComplaintCategory,
    ComplaintStatus,
    PreferredLanguage,
    Role,
    Sex,
    WaitlistStatus,
)
from crm_store.identifiers import NationalIdHasher, luhn_check_digit
from crm_store.models import (
    Agent,
    AgentLanguage,
    AgentSkill,
    Appointment,
    Base,
    Call,
    CallLeg,
    ClinicSession,
    Complaint,
    ComplaintStatusChange,
    Department,
    Doctor,
    Patient,
    PhoneNumber,
    Skill,
    Slot,
    User,
    WaitlistEntry,
)
from crm_store.passwords import hash_password

log = logging.getLogger(__name__)


def _table(model: type[Base]) -> Table:
    """The ``Table`` ``model`` is mapped to (declarative types ``__table__`` only as a
    ``FromClause``, since a model may also be mapped to a join or a select)."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a single table")
    return table


#: Development console users (username, display name, role, password, extension).
DEV_USERS = (
    ("admin", "Administrator", Role.ADMIN, "hotline-admin-dev", None),
    ("supervisor", "Supervisor", Role.SUPERVISOR, "hotline-supervisor-dev", None),
    ("agent", "Agent", Role.AGENT, "hotline-agent-dev", "1001"),
)

DEPARTMENTS = (
    ("CARD", "心内科", "Cardiology"),
    ("RESP", "呼吸内科", "Respiratory Medicine"),
    ("GAST", "消化内科", "Gastroenterology"),
    ("ENDO", "内分泌科", "Endocrinology"),
    ("NEUR", "神经内科", "Neurology"),
    ("NEPH", "肾内科", "Nephrology"),
    ("GSUR", "普外科", "General Surgery"),
    ("ORTH", "骨科", "Orthopaedics"),
    ("OBGY", "妇产科", "Obstetrics and Gynaecology"),
    ("PAED", "儿科", "Paediatrics"),
    ("OPHT", "眼科", "Ophthalmology"),
    ("ENT", "耳鼻喉科", "Otorhinolaryngology"),
    ("DERM", "皮肤科", "Dermatology"),
    ("ONCO", "肿瘤科", "Oncology"),
    ("TCM", "中医科", "Traditional Chinese Medicine"),
    ("DENT", "口腔科", "Stomatology"),
)

SURNAMES = (
    ("王", "Wang"),
    ("李", "Li"),
    ("张", "Zhang"),
    ("刘", "Liu"),
    ("陈", "Chen"),
    ("杨", "Yang"),
    ("黄", "Huang"),
    ("赵", "Zhao"),
    ("吴", "Wu"),
    ("周", "Zhou"),
    ("徐", "Xu"),
    ("孙", "Sun"),
    ("马", "Ma"),
    ("朱", "Zhu"),
    ("胡", "Hu"),
    ("郭", "Guo"),
    ("何", "He"),
    ("高", "Gao"),
    ("林", "Lin"),
    ("罗", "Luo"),
)
GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰文辉鹏飞晓东海燕雪梅"
)
ENGLISH_GIVEN = (
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Emily",
    "Daniel",
    "Sarah",
    "Thomas",
    "Laura",
    "Peter",
    "Anna",
)
ENGLISH_FAMILY = (
    "Smith",
    "Johnson",
    "Brown",
    "Taylor",
    "Wilson",
    "Davies",
    "Evans",
    "Thomas",
    "Roberts",
    "Walker",
    "Wright",
    "Green",
    "Hall",
    "Wood",
    "Clarke",
    "Lewis",
)
MOBILE_PREFIXES = (
    "130",
    "131",
    "135",
    "136",
    "138",
    "139",
    "150",
    "151",
    "158",
    "159",
    "186",
    "187",
    "188",
    "189",
)
AREA_CODES = ("10", "21", "20", "755", "28", "571", "27", "25")
RELATIONS = ("daughter", "son", "spouse", "mother", "father", "carer")
ALLERGIES = ("青霉素过敏", "penicillin", "sulfonamides", "海鲜过敏", "latex", "aspirin")
CARE_NOTES = (
    "hard of hearing: speak slowly",
    "needs wheelchair access",
    "糖尿病随访",
    "高血压长期随访",
    "prefers morning appointments",
)
COMPLAINT_TEXTS = (
    "候诊时间太长",
    "waited over two hours past the appointment time",
    "挂号处态度不好",
    "bill charged twice",
    "停车位不足",
    "could not get through",
)

#: Session times in clinic-local hours.
MORNING = (dt.time(8, 0), dt.time(11, 30))
AFTERNOON = (dt.time(13, 30), dt.time(17, 0))
BATCH = 5_000
WEEKS_PAST = 4
WEEKS_AHEAD = 4


ProgressCallback = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass
class SeedReport:
    patients: int = 0
    phone_numbers: int = 0
    doctors: int = 0
    slots: int = 0
    appointments: int = 0
    waitlist_entries: int = 0
    calls: int = 0
    complaints: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def patients_per_second(self) -> float:
        return self.patients / self.seconds if self.seconds else 0.0


class StoreNotEmpty(Exception):
    """Seeding refuses to mix sample data into a store that has patients."""


def seed_database(
    database: Database,
    *,
    patients: int,
    seed: int = 42,
    today: dt.date | None = None,
    clinic_tz: str = "Asia/Shanghai",
    progress: ProgressCallback | None = None,
    id_hasher: NationalIdHasher | None = None,
) -> SeedReport:
    """Fill an empty, migrated store with a hospital of ``patients`` patients."""
    if not 1 <= patients <= 10_000_000:
        raise ValueError("patients must be between 1 and 10,000,000")
    started = time.perf_counter()
    seeder = _Seeder(
        rng=random.Random(seed),
        patients=patients,
        today=today or dt.datetime.now(dt.UTC).date(),
        tz=zoneinfo.ZoneInfo(clinic_tz),
        progress=progress or (lambda phase, done, total: None),
        hasher=id_hasher or NationalIdHasher(),
    )
    with database.engine.begin() as conn:
        if conn.scalar(select(func.count()).select_from(_table(Patient))):
            raise StoreNotEmpty("the store already has patients; seed an empty database")
        seeder.run(conn)
        if conn.dialect.name == "postgresql":
            _advance_sequences(conn)
    report = seeder.report
    report.seconds = time.perf_counter() - started
    log.info("seeded %d patients in %.1f s", report.patients, report.seconds)
    return report


def _advance_sequences(conn: Connection) -> None:
    for table in Base.metadata.sorted_tables:
        if "id" in table.c and table.c.id.autoincrement and table.c.id.primary_key:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                )
            )


@dataclass
class _Seeder:
    rng: random.Random
    patients: int
    today: dt.date
    tz: zoneinfo.ZoneInfo
    progress: ProgressCallback
    hasher: NationalIdHasher
    report: SeedReport = field(default_factory=SeedReport)

    def run(self, conn: Connection) -> None:
        self._phase(conn, "users", self._users)
        self._phase(conn, "departments and doctors", self._doctors)
        self._phase(conn, "patients", self._patients)
        self._phase(conn, "clinic sessions, slots, appointments", self._schedule)
        self._phase(conn, "waitlist", self._waitlist)
        self._phase(conn, "calls", self._calls)
        self._phase(conn, "complaints", self._complaints)

    def _phase(self, conn: Connection, name: str, step: Callable[[Connection], None]) -> None:
        began = time.perf_counter()
        step(conn)
        self.report.phases[name] = time.perf_counter() - began

    def _insert(self, conn: Connection, model: type[Base], rows: list[dict[str, Any]]) -> None:
        """Bulk-insert ``rows`` (keyed by column name) into ``model``'s table, in Core."""
        if rows:
            conn.execute(insert(_table(model)), rows)

    # ------------------------------------------------------------------ steps

    def _users(self, conn: Connection) -> None:
        skills = ["booking", "complaints", "english", "chronic-care"]
        self._insert(conn, Skill, [{"id": i + 1, "name": s} for i, s in enumerate(skills)])
        now = dt.datetime.now(dt.UTC)
        for user_id, (username, display, role, password, extension) in enumerate(DEV_USERS, 1):
            self._insert(
                conn,
                User,
                [
                    {
                        "id": user_id,
                        "username": username,
                        "display_name": display,
                        "role": role,
                        "password_hash": hash_password(password),
                        "active": True,
                        "created_at": now,
                    }
                ],
            )
            if extension:
                self._insert(
                    conn,
                    Agent,
                    [{"id": user_id, "user_id": user_id, "extension": extension, "active": True}],
                )
                self._insert(
                    conn,
                    AgentSkill,
                    [
                        {"agent_id": user_id, "skill_id": 1, "level": 8},
                        {"agent_id": user_id, "skill_id": 3, "level": 6},
                    ],
                )
                self._insert(
                    conn,
                    AgentLanguage,
                    [
                        {"agent_id": user_id, "language": PreferredLanguage.MANDARIN},
                        {"agent_id": user_id, "language": PreferredLanguage.ENGLISH},
                    ],
                )

    def _doctors(self, conn: Connection) -> None:
        self._insert(
            conn,
            Department,
            [
                {"id": i + 1, "code": code, "name_zh": zh, "name_en": en, "active": True}
                for i, (code, zh, en) in enumerate(DEPARTMENTS)
            ],
        )
        count = max(len(DEPARTMENTS), min(400, self.patients // 2500))
        rows = []
        titles = ("主任医师", "副主任医师", "主治医师")
        for doctor_id in range(1, count + 1):
            zh_surname, en_surname = self.rng.choice(SURNAMES)
            given = "".join(self.rng.choices(GIVEN_CHARS, k=self.rng.choice((1, 2))))
            rows.append(
                {
                    "id": doctor_id,
                    "department_id": (doctor_id - 1) % len(DEPARTMENTS) + 1,
                    "name_zh": zh_surname + given,
                    "name_en": f"Dr {en_surname}",
                    "title": self.rng.choice(titles),
                    "active": True,
                }
            )
        self._insert(conn, Doctor, rows)
        self.report.doctors = count
        self.doctor_departments = {row["id"]: row["department_id"] for row in rows}

    def _patient_rows(self) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
        rng = self.rng
        created = dt.datetime.now(dt.UTC)
        # Distinct mobile numbers without bookkeeping: an affine permutation of 0..10^8.
        multiplier, offset = 48_271, rng.randrange(10**8)
        phone_id = 0
        own_mobiles: list[str] = []
        for patient_id in range(1, self.patients + 1):
            english = rng.random() < 0.12
            sex = Sex.FEMALE if rng.random() < 0.52 else Sex.MALE
            if english:
                family, given = rng.choice(ENGLISH_FAMILY), rng.choice(ENGLISH_GIVEN)
                full = f"{given} {family}"
            else:
                family = rng.choice(SURNAMES)[0]
                given = "".join(rng.choices(GIVEN_CHARS, k=rng.choice((1, 2, 2))))
                full = family + given
            dob = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(33_000))
            digest = None
            if not english and rng.random() < 0.8:
                body = f"{rng.randrange(110000, 659999)}{dob:%Y%m%d}{rng.randrange(1000):03d}"
                digest = self.hasher.digest(body + rng.choice("0123456789X"))
            patient = {
                "id": patient_id,
                "mrn": f"M{patient_id:09d}",
                "family_name": family,
                "given_name": given,
                "full_name": full,
                "sex": sex,
                "date_of_birth": dob,
                "national_id_hash": digest.digest if digest else None,
                "national_id_last4": digest.last4 if digest else None,
                "preferred_language": (
                    PreferredLanguage.ENGLISH if english else PreferredLanguage.MANDARIN
                ),
                "vip": rng.random() < 0.01,
                "chronic": rng.random() < 0.15,
                "allergies": rng.choice(ALLERGIES) if rng.random() < 0.08 else None,
                "care_notes": rng.choice(CARE_NOTES) if rng.random() < 0.05 else None,
                "created_at": created,
                "updated_at": created,
            }
            serial = (patient_id * multiplier + offset) % 10**8
            mobile = f"+86{MOBILE_PREFIXES[patient_id % len(MOBILE_PREFIXES)]}{serial:08d}"
            phone_id += 1
            numbers = [
                {
                    "id": phone_id,
                    "patient_id": patient_id,
                    "e164": mobile,
                    "raw": _national_mobile(mobile),
                    "relation": None,
                    "is_primary": True,
                    "created_at": created,
                }
            ]
            if rng.random() < 0.2:
                area = rng.choice(AREA_CODES)
                local = f"{rng.randrange(2, 9)}{rng.randrange(10**7):07d}"
                phone_id += 1
                numbers.append(
                    {
                        "id": phone_id,
                        "patient_id": patient_id,
                        "e164": f"+86{area}{local}",
                        "raw": f"0{area}-{local}",
                        "relation": None,
                        "is_primary": False,
                        "created_at": created,
                    }
                )
            if own_mobiles and rng.random() < 0.15:
                phone_id += 1
                family_number = rng.choice(own_mobiles)
                numbers.append(
                    {
                        "id": phone_id,
                        "patient_id": patient_id,
                        "e164": family_number,
                        "raw": _national_mobile(family_number),
                        "relation": rng.choice(RELATIONS),
                        "is_primary": False,
                        "created_at": created,
                    }
                )
            if len(own_mobiles) < 50_000:
                own_mobiles.append(mobile)
            elif rng.random() < 0.05:
                own_mobiles[rng.randrange(len(own_mobiles))] = mobile
            yield patient, numbers

    def _patients(self, conn: Connection) -> None:
        patients: list[dict[str, Any]] = []
        numbers: list[dict[str, Any]] = []
        for done, (patient, patient_numbers) in enumerate(self._patient_rows(), 1):
            patients.append(patient)
            numbers.extend(patient_numbers)
            if len(patients) >= BATCH or done == self.patients:
                self._insert(conn, Patient, patients)
                self._insert(conn, PhoneNumber, numbers)
                self.report.patients += len(patients)
                self.report.phone_numbers += len(numbers)
                patients, numbers = [], []
                self.progress("patients", done, self.patients)

    def _schedule(self, conn: Connection) -> None:
        rng = self.rng
        now = dt.datetime.now(dt.UTC)
        monday = self.today - dt.timedelta(days=self.today.weekday())
        first_day = monday - dt.timedelta(weeks=WEEKS_PAST)
        days = [first_day + dt.timedelta(days=d) for d in range(7 * (WEEKS_PAST + WEEKS_AHEAD))]
        weekdays = [d for d in days if d.weekday() < 5]
        sessions: list[dict[str, Any]] = []
        slots: list[dict[str, Any]] = []
        appointments: list[dict[str, Any]] = []
        session_id = slot_id = appointment_id = 0
        # References: distinct 8-digit payloads drawn without replacement.
        payloads = iter(
            rng.sample(
                range(10_000_000, 100_000_000),
                k=min(60_000_000, self.report.doctors * len(weekdays) * 2 * 14 * 2),
            )
        )
        total = len(self.doctor_departments)
        for done, (doctor_id, department_id) in enumerate(self.doctor_departments.items(), 1):
            for day in weekdays:
                for begin, end in (MORNING, AFTERNOON):
                    if rng.random() < 0.6:  # a doctor holds clinic in ~60% of half-days
                        continue
                    session_id += 1
                    starts = dt.datetime.combine(day, begin, self.tz).astimezone(dt.UTC)
                    ends = dt.datetime.combine(day, end, self.tz).astimezone(dt.UTC)
                    sessions.append(
                        {
                            "id": session_id,
                            "doctor_id": doctor_id,
                            "department_id": department_id,
                            "starts_at": starts,
                            "ends_at": ends,
                            "location": f"{department_id}号诊室",
                            "cancelled": False,
                        }
                    )
                    slot_start = starts
                    while slot_start < ends:
                        slot_id += 1
                        capacity = 2 if rng.random() < 0.2 else 1
                        past = slot_start < now
                        fill = 0.85 if past else 0.55
                        holders = [
                            self._random_patient() for _ in range(capacity) if rng.random() < fill
                        ]
                        holders = list(dict.fromkeys(holders))
                        booked = 0
                        for patient_id in holders:
                            appointment_id += 1
                            status = self._appointment_status(past)
                            if status is AppointmentStatus.BOOKED:
                                booked += 1
                            booked_at = slot_start - dt.timedelta(days=rng.randrange(1, 30))
                            payload = str(next(payloads))
                            cancelled = status is AppointmentStatus.CANCELLED
                            appointments.append(
                                {
                                    "id": appointment_id,
                                    "reference": payload + luhn_check_digit(payload),
                                    "patient_id": patient_id,
                                    "slot_id": slot_id,
                                    "status": status,
                                    "booked_by": rng.choice(
                                        (
                                            BookingChannel.IVR,
                                            BookingChannel.IVR,
                                            BookingChannel.AGENT,
                                        )
                                    ),
                                    "booked_at": booked_at,
                                    "cancelled_at": booked_at + dt.timedelta(hours=5)
                                    if cancelled
                                    else None,
                                    "cancelled_by": BookingChannel.IVR if cancelled else None,
                                    "cancel_reason": "patient request" if cancelled else None,
                                }
                            )
                        slots.append(
                            {
                                "id": slot_id,
                                "session_id": session_id,
                                "department_id": department_id,
                                "doctor_id": doctor_id,
                                "starts_at": slot_start,
                                "ends_at": slot_start + dt.timedelta(minutes=15),
                                "capacity": capacity,
                                "booked": booked,
                            }
                        )
                        slot_start += dt.timedelta(minutes=15)
            if len(slots) >= BATCH or done == total:
                self._insert(conn, ClinicSession, sessions)
                self._insert(conn, Slot, slots)
                self._insert(conn, Appointment, appointments)
                self.report.slots += len(slots)
                self.report.appointments += len(appointments)
                sessions, slots, appointments = [], [], []
                self.progress("clinic sessions, slots, appointments", done, total)
        self.sessions_total = session_id

    def _random_patient(self) -> int:
        return self.rng.randrange(1, self.patients + 1)

    def _appointment_status(self, past: bool) -> AppointmentStatus:
        roll = self.rng.random()
        if roll < 0.06:
            return AppointmentStatus.CANCELLED
        if not past:
            return AppointmentStatus.BOOKED
        return AppointmentStatus.NO_SHOW if roll < 0.14 else AppointmentStatus.ATTENDED

    def _waitlist(self, conn: Connection) -> None:
        rng = self.rng
        count = max(5, self.patients // 50)
        rows = []
        now = dt.datetime.now(dt.UTC)
        for entry_id in range(1, count + 1):
            doctor_id = rng.choice(list(self.doctor_departments))
            earliest = self.today + dt.timedelta(days=rng.randrange(0, 7))
            window = rng.random()
            rows.append(
                {
                    "id": entry_id,
                    "patient_id": self._random_patient(),
                    "department_id": self.doctor_departments[doctor_id],
                    "doctor_id": doctor_id if rng.random() < 0.3 else None,
                    "earliest_date": earliest,
                    "latest_date": earliest + dt.timedelta(days=rng.randrange(3, 28)),
                    "earliest_time": dt.time(8, 0) if window < 0.2 else None,
                    "latest_time": dt.time(12, 0) if window < 0.2 else None,
                    "clinical_priority": rng.choices((1, 2, 3, 4, 5), weights=(5, 15, 50, 20, 10))[
                        0
                    ],
                    "consent_to_call": rng.random() < 0.85,
                    "status": WaitlistStatus.WAITING,
                    "created_at": now - dt.timedelta(hours=rng.randrange(1, 24 * 60)),
                    "updated_at": now,
                }
            )
            if len(rows) >= BATCH:
                self._insert(conn, WaitlistEntry, rows)
                self.report.waitlist_entries += len(rows)
                rows = []
        self._insert(conn, WaitlistEntry, rows)
        self.report.waitlist_entries += len(rows)
        self.progress("waitlist", count, count)

    def _calls(self, conn: Connection) -> None:
        rng = self.rng
        count = max(10, self.patients // 4)
        now = dt.datetime.now(dt.UTC)
        base_epoch = int(now.timestamp()) - WEEKS_PAST * 7 * 86_400
        calls: list[dict[str, Any]] = []
        legs: list[dict[str, Any]] = []
        for call_id in range(1, count + 1):
            arrived = now - dt.timedelta(seconds=rng.randrange(60, WEEKS_PAST * 7 * 86_400))
            known = rng.random() < 0.8
            answered = arrived + dt.timedelta(seconds=rng.randrange(2, 120))
            ended = answered + dt.timedelta(seconds=rng.randrange(20, 900))
            linkedid = f"{base_epoch + call_id // 100}.{call_id}"
            calls.append(
                {
                    "id": call_id,
                    "linkedid": linkedid,
                    "direction": CallDirection.INBOUND,
                    "caller_number_raw": None,
                    "caller_number_e164": None,
                    "caller_name": None,
                    "patient_id": self._random_patient() if known else None,
                    "arrived_at": arrived,
                    "answered_at": answered,
                    "ended_at": ended,
                    "hangup_cause": 16,
                    "hangup_cause_text": "Normal Clearing",
                }
            )
            legs.append(
                {
                    "id": call_id,
                    "call_id": call_id,
                    "uniqueid": linkedid,
                    "channel": f"PJSIP/trunk-{call_id:08x}",
                    "created_at": arrived,
                    "answered_at": answered,
                    "ended_at": ended,
                    "hangup_cause": 16,
                }
            )
            if len(calls) >= BATCH or call_id == count:
                self._insert(conn, Call, calls)
                self._insert(conn, CallLeg, legs)
                self.report.calls += len(calls)
                calls, legs = [], []
                self.progress("calls", call_id, count)

    def _complaints(self, conn: Connection) -> None:
        rng = self.rng
        count = max(3, self.patients // 200)
        now = dt.datetime.now(dt.UTC)
        tickets = rng.sample(range(10_000_000, 100_000_000), k=count)
        complaints, changes = [], []
        change_id = 0
        for complaint_id in range(1, count + 1):
            created = now - dt.timedelta(hours=rng.randrange(1, 24 * 60))
            status = rng.choice(list(ComplaintStatus))
            payload = str(tickets[complaint_id - 1])
            complaints.append(
                {
                    "id": complaint_id,
                    "ticket_number": payload + luhn_check_digit(payload),
                    "patient_id": self._random_patient(),
                    "call_id": None,
                    "department_id": rng.randrange(1, len(DEPARTMENTS) + 1),
                    "category": rng.choice(list(ComplaintCategory)),
                    "opened_via": rng.choice((BookingChannel.IVR, BookingChannel.AGENT)),
                    "description": rng.choice(COMPLAINT_TEXTS),
                    "status": status,
                    "response": "已回复患者"
                    if status in (ComplaintStatus.RESPONDED, ComplaintStatus.CLOSED)
                    else None,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            path = [ComplaintStatus.OPEN]
            if status is not ComplaintStatus.OPEN:
                path.append(status)
            previous = None
            for step in path:
                change_id += 1
                changes.append(
                    {
                        "id": change_id,
                        "complaint_id": complaint_id,
                        "from_status": previous,
                        "to_status": step,
                        "changed_at": created,
                        "changed_by_user_id": None,
                        "note": None,
                    }
                )
                previous = step
        self._insert(conn, Complaint, complaints)
        self._insert(conn, ComplaintStatusChange, changes)
        self.report.complaints = count
        self.progress("complaints", count, count)


def _national_mobile(e164: str) -> str:
    digits = e164.removeprefix("+86")
    return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
