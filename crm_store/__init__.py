"""The CRM store: patients, numbers, schedules, appointments, waitlist, calls, IVR
sessions, complaints, recordings, users and the audit log — SQLAlchemy models, Alembic
migrations and the repositories the rest of Hotline goes through."""
