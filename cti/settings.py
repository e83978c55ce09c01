"""Hotline's settings: environment variables (``HOTLINE_*``) over an optional TOML file
over defaults.

The file is the one named by ``HOTLINE_CONFIG``, else ``hotline.toml`` in the working
directory when present. Defaults suit a developer's machine: loopback only,
non-standard ports, SQLite in a file under the state directory.
"""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from crm_store.enums import PreferredLanguage
from crm_store.identifiers import NationalIdHasher
from cti.dialer.config import DialerPolicy, check_timezone

#: The source tree (``asterisk-conf/``, ``dialplans/``) sits beside the packages.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEV_AMI_SECRET = "hotline-dev-only"


class Environment(str, enum.Enum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


#: Prompt languages; the value is the flow directory under dialplans/ivr/. The same enum
#: as a patient's preferred language, so the two cannot drift apart. (An IVR session
#: stores its flow language as text: a test-only flow such as ko has no member here.)
Language = PreferredLanguage


class AsteriskMode(str, enum.Enum):
    """How ``hotline asterisk up`` finds an Asterisk to run."""

    AUTO = "auto"  # an installed asterisk binary if there is one, else the chroot
    NATIVE = "native"
    CHROOT = "chroot"
    EXTERNAL = "external"  # someone else runs it; Hotline only connects to its AMI


def _state_home() -> Path:
    return Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "hotline"


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hotline"


class AcdAgentSetting(BaseModel):
    """An agent Hotline's ACD may ring: console login, phone, skills and languages (1-5)."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    phone: str = Field(
        pattern=r"^(PJSIP/[A-Za-z0-9_.+-]{1,64}|Local/[A-Za-z0-9_.+-]{1,64}@[A-Za-z0-9_-]{1,64})$"
    )
    skills: dict[str, int]
    languages: dict[str, int]


class AcdQueueSetting(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    skill: str = Field(min_length=1, max_length=40)
    language: str = Field(min_length=1, max_length=10)
    ring_timeout_s: float = Field(default=20.0, gt=0)
    wrap_up_s: float = Field(default=30.0, ge=0)
    #: Answered within this many seconds counts for the service level (live and reports).
    service_level_target_s: float = Field(default=20.0, gt=0)


class Settings(BaseSettings):
    """Everything Hotline reads from its environment. Build one in the composition root
    and pass it down; nothing reads settings from a global."""

    model_config = SettingsConfigDict(
        env_prefix="HOTLINE_", env_nested_delimiter="__", extra="forbid"
    )

    environment: Environment = Environment.DEVELOPMENT

    # Where Hotline keeps its data (SQLite file, prompt cache, logs) and caches.
    state_dir: Path = Field(default_factory=_state_home)
    cache_dir: Path = Field(default_factory=_cache_home)

    # Asterisk Manager Interface: Hotline's least-privilege user (asterisk-conf/manager.conf).
    ami_host: str = "127.0.0.1"
    ami_port: int = Field(default=15038, ge=1, le=65535)
    ami_username: str = "hotline"
    ami_secret: SecretStr = SecretStr(DEV_AMI_SECRET)
    ami_reconnect_initial_s: float = Field(default=0.5, gt=0)
    ami_reconnect_max_s: float = Field(default=30.0, gt=0)
    ami_action_timeout_s: float = Field(default=10.0, gt=0)

    # FastAGI server the dialplan reaches for every inbound call.
    agi_host: str = "127.0.0.1"
    agi_port: int = Field(default=14573, ge=1, le=65535)

    # Web consoles and API.
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=18080, ge=1, le=65535)

    # Store: SQLite in the state directory unless a URL is given
    # (production: postgresql+psycopg://user@host/db).
    database_url: str | None = None

    # Telephony country: national numbers are read as this region's (ISO 3166 code).
    country: str = Field(default="CN", min_length=2, max_length=2)
    # The hospital's clock: clinic hours, appointment times, calling hours.
    clinic_timezone: str = "Asia/Shanghai"
    # Key of the keyed hash national identifiers are stored as (never the id itself).
    # Keep it outside the database; changing it orphans every stored identifier.
    national_id_key: SecretStr = SecretStr(NationalIdHasher.DEV_KEY.decode())

    # What callers hear the hotline called.
    hospital_name: str = Field(default="Hotline General Hospital", min_length=1, max_length=60)
    hospital_name_zh: str = Field(default="热线总医院", min_length=1, max_length=30)

    # Speech. The model directory of a vosk model (production: a Mandarin or English
    # model). None: keypad only.
    language: Language = Language.MANDARIN
    vosk_model_path: Path | None = None
    # Where Asterisk's AudioSocket() reaches Hotline with the caller's audio.
    audiosocket_host: str = "127.0.0.1"
    audiosocket_port: int = Field(default=14575, ge=1, le=65535)
    tts_rate: int = Field(default=160, ge=80, le=400)

    # Asterisk provisioning for development, tests and the demo.
    asterisk_mode: AsteriskMode = AsteriskMode.AUTO
    asterisk_sip_port: int = Field(default=15060, ge=1, le=65535)
    asterisk_chroot_dir: Path | None = None  # default: <cache_dir>/asterisk-22
    asterisk_instance_name: str = Field(default="dev", pattern=r"^[a-z0-9][a-z0-9-]{0,30}$")
    asterisk_conf_dir: Path = PROJECT_ROOT / "asterisk-conf"
    dialplans_dir: Path = PROJECT_ROOT / "dialplans"

    # Hotline's own call distribution (acd/service.py). With no agents configured, callers
    # handed to a person go to Asterisk's queue ([hotline-agents]) as before.
    acd_agents: list[AcdAgentSetting] = Field(default_factory=list)
    acd_queues: list[AcdQueueSetting] = Field(default_factory=list)

    # Outbound dialer: calling hours, attempts, lines, do-not-call (cti/dialer/config.py).
    dialer: DialerPolicy = Field(default_factory=DialerPolicy)

    _known_timezone = field_validator("clinic_timezone")(check_timezone)

    @field_validator("national_id_key")
    @classmethod
    def _long_enough_key(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value().encode()) < 16:
            raise ValueError("the national-id key must be at least 16 bytes")
        return value

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> Settings:
        if self.environment is not Environment.PRODUCTION:
            return self
        if self.ami_secret.get_secret_value() == DEV_AMI_SECRET:
            raise ValueError(
                "HOTLINE_AMI_SECRET is still the development secret; set the secret of the "
                "AMI user configured in Asterisk's manager.conf"
            )
        if self.national_id_key.get_secret_value().encode() == NationalIdHasher.DEV_KEY:
            raise ValueError(
                "HOTLINE_NATIONAL_ID_KEY is still the development key; set a long random "
                "secret (and keep it: stored identifiers are hashed with it)"
            )
        return self

    def national_id_hasher(self) -> NationalIdHasher:
        return NationalIdHasher(self.national_id_key.get_secret_value().encode())

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.state_dir / 'hotline.db'}"

    @property
    def effective_chroot_dir(self) -> Path:
        return self.asterisk_chroot_dir or self.cache_dir / "asterisk-22"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file()
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)


def _config_file() -> Path | None:
    named = os.environ.get("HOTLINE_CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise FileNotFoundError(f"HOTLINE_CONFIG names {path}, which is not a file")
        return path
    local = Path("hotline.toml")
    return local if local.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and config file, with explicit overrides on top."""
    return Settings(**overrides)
