"""Settings, read once: config/defaults.toml, then TICKETBRIDGE_* environment variables.

Everything that configures the service passes through `load_settings`, so an invalid value
stops start-up with one line naming the setting and what it accepts, instead of failing
later inside a request or a job.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
import secrets
import tomllib
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy.engine import make_url

from ticketbridge.errors import ConfigError
from ticketbridge.private_files import private_file, private_folder

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULTS_FILE = PROJECT_ROOT / "config" / "defaults.toml"
ENV_PREFIX = "TICKETBRIDGE_"
SECRET_SETTINGS = frozenset({"secret_key", "smtp_password", "imap_password", "license_signing_key"})
# Links and reply addresses are HMACs keyed with the secret key: below 32 bytes (256 bits, the
# HMAC-SHA256 block's security level) a key is within reach of offline guessing.
SECRET_KEY_MIN_BYTES = 32
# Query parameters of a URL whose value is a credential (libpq and redis-py accept `password=`).
CREDENTIAL_QUERY_WORDS = ("pass", "secret", "token", "key")
TLS_MODES = ("none", "starttls", "ssl")
# An hour to a year, as Keygen bounds its license files' TTL.
SYNC_TTL_RANGE = (3600, 365 * 86400)
UNMATCHED_MAIL = ("general", "ignore")


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    workflows_path: Path
    email_templates_path: Path
    catalogue_path: Path
    database_url: str
    redis_url: str
    public_url: str
    mail_from: str
    reply_domain: str
    smtp_host: str
    smtp_port: int
    smtp_user: str
    smtp_tls: str
    smtp_timeout_seconds: int
    imap_host: str
    imap_port: int
    imap_user: str
    imap_folder: str
    imap_tls: str
    imap_move_to: str
    imap_batch_size: int
    imap_poll_seconds: int
    unmatched_mail: str
    mail_rate_cap_per_hour: int
    receipt_cap_per_sender_per_hour: int
    sweep_interval_seconds: int
    # R16: how long a signed sync answer stays valid (Keygen's license-file TTL); a server refuses
    # an answer past its valid_until, so an old one cannot be replayed to it forever.
    license_sync_ttl_seconds: int
    secret_key: str = field(repr=False, default="")
    smtp_password: str = field(repr=False, default="")
    imap_password: str = field(repr=False, default="")
    # R15/R16: the Ed25519 private key (PEM) that signs license keys and sync answers; empty:
    # a key generated in <instance>/license-keys. Retired public keys (PEM blocks) keep verifying.
    license_signing_key: str = field(repr=False, default="")
    license_public_keys: str = ""

    @property
    def embedded(self) -> bool:
        """No Redis configured: jobs run in-process after each commit."""
        return not self.redis_url

    @property
    def imap_folders(self) -> tuple[str, ...]:
        return tuple(name.strip() for name in self.imap_folder.split(",") if name.strip())

    @property
    def license_sync_ttl(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.license_sync_ttl_seconds)

    @property
    def mail_folder(self) -> Path:
        return self.instance_path / "mail-outbox"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


@functools.cache
def _field_types() -> dict[str, type]:
    """Each setting's type, read off the dataclass, so converting a value needs no second list."""
    return typing.get_type_hints(Settings)


def load_settings(
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    defaults_file: Path = DEFAULTS_FILE,
) -> Settings:
    """Build validated settings; `overrides` (tests, CLI flags) win over the environment."""
    environ = os.environ if environ is None else environ
    raw = _read_defaults(defaults_file)
    names = {f.name for f in dataclasses.fields(Settings)}
    for name in names:
        value = environ.get(ENV_PREFIX + name.upper())
        if value is not None:
            raw[name] = value
    raw.update(overrides or {})
    unknown = sorted(set(raw) - names)
    if unknown:
        raise ConfigError(
            f"{unknown[0]}: unknown setting; known settings are {', '.join(sorted(names))}"
        )
    values = {name: _convert(name, raw.get(name, "")) for name in names}
    settings = Settings(**values)
    _validate(settings)
    return _with_embedded_defaults(settings)


def _read_defaults(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    for name in SECRET_SETTINGS & set(data):
        raise ConfigError(
            f"{name}: secrets are read from the environment only; "
            f"remove it from {path.name} and set {ENV_PREFIX}{name.upper()}"
        )
    return data


def _convert(name: str, value: Any) -> Any:
    kind = _field_types()[name]
    if kind is Path:
        path = Path(str(value)).expanduser()
        return path if path.is_absolute() else PROJECT_ROOT / path
    if kind is int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{_env_name(name)}: {value!r} is not a whole number") from None
        if number < 0:
            raise ConfigError(f"{_env_name(name)}: {number} must not be negative")
        return number
    return str(value).strip()


CHOICES = {"smtp_tls": TLS_MODES, "imap_tls": TLS_MODES, "unmatched_mail": UNMATCHED_MAIL}


def _validate(settings: Settings) -> None:
    for name, choices in CHOICES.items():
        value = getattr(settings, name)
        if value not in choices:
            raise ConfigError(f"{_env_name(name)}: {value!r} is not one of {', '.join(choices)}")
    for name in ("smtp_port", "imap_port"):
        if not 0 < getattr(settings, name) < 65536:
            raise ConfigError(f"{_env_name(name)}: must be a port number from 1 to 65535")
    low, high = SYNC_TTL_RANGE
    if not low <= settings.license_sync_ttl_seconds <= high:
        raise ConfigError(
            f"{_env_name('license_sync_ttl_seconds')}: must be from {low} (an hour) to {high} "
            "(a year)"
        )
    if not settings.imap_batch_size:
        raise ConfigError(f"{_env_name('imap_batch_size')}: must be at least 1")
    if settings.imap_host and not settings.imap_folders:
        raise ConfigError(f"{_env_name('imap_folder')}: name at least one folder, e.g. INBOX")
    url = urlsplit(settings.public_url)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise ConfigError(
            f"{_env_name('public_url')}: {settings.public_url!r} is not an http(s) URL"
        )
    if settings.database_url and not settings.database_url.startswith(("sqlite:", "postgresql")):
        raise ConfigError(
            f"{_env_name('database_url')}: accepts sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
        )
    if settings.redis_url and not settings.redis_url.startswith(
        ("redis://", "rediss://", "unix://")
    ):
        raise ConfigError(f"{_env_name('redis_url')}: accepts redis://HOST:PORT/DB")
    if settings.redis_url and not settings.secret_key:
        raise ConfigError(
            f"{_env_name('secret_key')}: required when {_env_name('redis_url')} is set, "
            "so every machine signs links with the same key"
        )
    key_bytes = len(settings.secret_key.encode())
    if settings.secret_key and key_bytes < SECRET_KEY_MIN_BYTES:
        raise ConfigError(
            f"{_env_name('secret_key')}: {key_bytes} bytes is too short; use at least "
            f"{SECRET_KEY_MIN_BYTES} random bytes, e.g. from "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if "@" not in settings.mail_from:
        raise ConfigError(f"{_env_name('mail_from')}: {settings.mail_from!r} has no email address")


def _with_embedded_defaults(settings: Settings) -> Settings:
    """Fill what the embedded default derives: SQLite file, reply domain, a kept secret key."""
    _create_private(private_folder, settings.instance_path, "instance_path")
    changes: dict[str, Any] = {}
    if not settings.database_url:
        changes["database_url"] = f"sqlite:///{settings.instance_path / 'ticketbridge.sqlite3'}"
    if settings.database_url.startswith("postgresql://"):
        changes["database_url"] = "postgresql+psycopg://" + settings.database_url.removeprefix(
            "postgresql://"
        )
    if not settings.reply_domain:
        changes["reply_domain"] = settings.mail_from.rsplit("@", 1)[1].strip(" >")
    if not settings.secret_key:
        changes["secret_key"] = _instance_secret(settings.instance_path)
    return settings.replace(**changes) if changes else settings


def _instance_secret(instance_path: Path) -> str:
    """The embedded default keeps a generated key in the instance folder so links survive
    restarts."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    key = secrets.token_urlsafe(48)
    private_file(key_file).write_text(key, encoding="utf-8")
    return key


def create_sqlite_file(database_url: str) -> None:
    """Create the SQLite file owner-only before SQLite creates it with the umask's mode."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        _create_private(private_file, Path(url.database), "database_url")


def _create_private(create: Callable[[Path], Path], path: Path, setting: str) -> None:
    try:
        create(path)
    except OSError as exc:
        raise ConfigError(
            f"{_env_name(setting)}: cannot create {path} ({exc.strerror or exc}); "
            "point it at a folder this user can create and write"
        ) from None


def shown_value(name: str, value: Any) -> str:
    """A setting as `config show` prints it: secrets as ***, and the credentials inside any URL
    (the password of its user info, a `password=` parameter) masked too."""
    if name in SECRET_SETTINGS:
        return "***" if value else ""
    return mask_url(str(value))


def mask_url(value: str) -> str:
    """`value` with the credentials of a URL masked; anything that is not a URL unchanged."""
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc:
        return value
    userinfo, at, host = parts.netloc.rpartition("@")
    netloc = parts.netloc
    if at and ":" in userinfo:
        netloc = f"{userinfo.split(':', 1)[0]}:***@{host}"
    query = [
        (key, "***" if any(word in key.lower() for word in CREDENTIAL_QUERY_WORDS) else item)
        for key, item in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe="*")))


def _env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()
