"""Console users (agents, supervisors, admins) and the agents' telephony side."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_store.enums import PreferredLanguage, Role
from crm_store.errors import DuplicateUser, InvalidRecord, UserNotFound
from crm_store.models import Agent, AgentLanguage, AgentSkill, Skill, User, utcnow
from crm_store.passwords import hash_password, needs_rehash, verify_password


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    display_name: str
    role: Role
    active: bool


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, *, username: str, display_name: str, role: Role, password: str) -> int:
        """A new user with an Argon2id password hash; DuplicateUser if the name is taken."""
        if not username.strip():
            raise InvalidRecord("username", "must not be empty")
        if len(password) < 8:
            raise InvalidRecord("password", "must have at least 8 characters")
        user = User(
            username=username.strip(),
            display_name=display_name,
            role=role,
            password_hash=hash_password(password),
        )
        try:
            with self.session.begin_nested():
                self.session.add(user)
                self.session.flush()
        except IntegrityError as exc:
            raise DuplicateUser(username) from exc
        return user.id

    def authenticate(self, username: str, password: str) -> UserView | None:
        """The active user with this name and password, else None (same answer for an
        unknown name and a wrong password). Upgrades outdated hashes on success."""
        user = self.session.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            verify_password(_DUMMY_HASH, password)  # same time whether or not the name exists
            return None
        if not verify_password(user.password_hash, password):
            return None
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.last_login_at = utcnow()
        return _view(user)

    def get(self, username: str) -> UserView:
        user = self.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise UserNotFound(username)
        return _view(user)

    def agent_extension(self, user_id: int) -> str | None:
        """The phone extension of a user who has one (agents; supervisors who listen in)."""
        return self.session.scalar(
            select(Agent.extension).where(Agent.user_id == user_id, Agent.active)
        )

    def add_agent(
        self,
        user_id: int,
        *,
        extension: str,
        skills: Iterable[tuple[str, int]] = (),
        languages: Iterable[PreferredLanguage] = (PreferredLanguage.MANDARIN,),
    ) -> int:
        """Make a user an agent reachable at ``extension`` with (skill, level 1..10) and
        languages; unknown skills are created. Returns the agent id."""
        agent = Agent(user_id=user_id, extension=extension)
        for name, level in skills:
            skill = self.session.scalar(select(Skill).where(Skill.name == name))
            if skill is None:
                skill = Skill(name=name)
                self.session.add(skill)
                self.session.flush()
            agent.skills.append(AgentSkill(skill_id=skill.id, level=level))
        for language in languages:
            agent.languages.append(AgentLanguage(language=language))
        try:
            with self.session.begin_nested():
                self.session.add(agent)
                self.session.flush()
        except IntegrityError as exc:
            raise InvalidRecord(
                "extension", "already used by another agent, or no such user"
            ) from exc
        return agent.id


_DUMMY_HASH = hash_password("not-a-real-password")


def _view(user: User) -> UserView:
    return UserView(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        active=user.active,
    )
