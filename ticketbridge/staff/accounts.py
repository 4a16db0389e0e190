"""Staff accounts: create, disable, reset a password, and check one at sign-in.

Passwords are hashed with Argon2id (argon2-cffi's defaults, which follow RFC 9106's
recommendation and are raised by the library over time: `needs_rehash` upgrades old hashes at
the next successful sign-in). An unknown address costs the same hash as a wrong password, so
timing does not tell which addresses have accounts.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ticketbridge.errors import Conflict, NotFound, TicketbridgeError, ValidationError
from ticketbridge.staff.models import StaffRole, StaffUser

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("ticketbridge: a password nobody has")


class SignInFailed(TicketbridgeError):
    """Wrong address or password, or a disabled account; the message never says which."""

    http_status = 401

    def __init__(self) -> None:
        super().__init__("That email address and password do not match an active staff account.")


def check_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValidationError(
            {
                "password": [
                    f"use {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters; "
                    "a few words make a good one"
                ]
            }
        )
    return password


def normal_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationError(
            {"email": [f"{email!r} is not a valid email address: {exc}"]}
        ) from None


def find_staff(session: Session, email: str) -> StaffUser | None:
    return session.scalars(
        select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower())
    ).one_or_none()


def get_staff(session: Session, email: str) -> StaffUser:
    user = find_staff(session, email)
    if user is None:
        raise NotFound(f"no staff account for {email.strip()!r}")
    return user


def create_staff(
    session: Session, *, email: str, name: str, role: StaffRole, password: str
) -> StaffUser:
    address = normal_email(email)
    if not name.strip():
        raise ValidationError({"name": ["give the person's name: it shows on every action"]})
    if find_staff(session, address) is not None:
        raise Conflict(f"{address} already has a staff account")
    user = StaffUser(
        email=address,
        name=name.strip(),
        role=role,
        password_hash=_hasher.hash(check_password(password)),
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def set_password(user: StaffUser, password: str) -> None:
    user.password_hash = _hasher.hash(check_password(password))


def authenticate(session: Session, email: str, password: str) -> StaffUser:
    """The active account these credentials open, or SignInFailed."""
    user = find_staff(session, email) if len(password) <= MAX_PASSWORD_LENGTH else None
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise SignInFailed() from None
    if user is None or not user.active:
        raise SignInFailed()
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def all_staff(session: Session) -> list[StaffUser]:
    return list(session.scalars(select(StaffUser).order_by(StaffUser.email)))


def disable_staff(session: Session, email: str) -> StaffUser:
    """The account can no longer sign in, and its sessions and API token stop working."""
    user = get_staff(session, email)
    user.active = False
    user.api_token_hash = None
    return user


def token_hash(token: str) -> str:
    """API tokens are long random strings, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(user: StaffUser) -> str:
    if not user.active:
        raise Conflict(f"{user.email} is disabled; enable it before issuing a token")
    token = "tbs_" + secrets.token_urlsafe(32)
    user.api_token_hash = token_hash(token)
    return token


def staff_for_token(session: Session, token: str) -> StaffUser | None:
    if not token.startswith("tbs_") or len(token) > 100:
        return None
    user = session.scalars(
        select(StaffUser).where(StaffUser.api_token_hash == token_hash(token))
    ).one_or_none()
    return user if user is not None and user.active else None
