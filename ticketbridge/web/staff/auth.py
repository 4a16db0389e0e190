"""Signing staff in and out, and who may see what.

Flask-Login keeps the signed-in account in Flask's signed session cookie (Secure, HttpOnly,
SameSite=Lax). The id it stores carries a fingerprint of the password hash, so resetting a
password or disabling an account ends every session that account had. Failed sign-ins are
rate-limited per client address by the service's one limiter (http/ratelimit.py: its storage,
its Retry-After and come-back message); a successful one costs nothing.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, abort, redirect, render_template, request, url_for
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from ticketbridge.http.context import runtime
from ticketbridge.http.ratelimit import limiter
from ticketbridge.staff.accounts import SignInFailed, authenticate
from ticketbridge.staff.actions import Staff
from ticketbridge.staff.models import StaffRole, StaffUser
from ticketbridge.web.staff import blueprint

FAILED_SIGN_IN_LIMIT = "5 per minute; 30 per hour"
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class SignedIn(Staff):
    """The signed-in person as Flask-Login needs them (a plain value, not a session-bound row)."""

    fingerprint: str = ""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    @property
    def is_admin(self) -> bool:
        return self.role == StaffRole.ADMIN

    def get_id(self) -> str:
        return f"{self.id}:{self.fingerprint}"

    @classmethod
    def of(cls, user: StaffUser) -> SignedIn:
        return cls(user.id, user.name, user.email, user.role, _fingerprint(user.password_hash))


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


login_manager = LoginManager()
login_manager.login_view = "staff.sign_in"
login_manager.login_message = "Please sign in to see that page."
login_manager.session_protection = "basic"


def _load(user_id: str) -> SignedIn | None:
    key, _, fingerprint = user_id.partition(":")
    if not key.isdigit():
        return None
    user = runtime().db.read(lambda session: session.get(StaffUser, int(key)))
    if user is None or not user.active or _fingerprint(user.password_hash) != fingerprint:
        return None
    return SignedIn.of(user)


login_manager.user_loader(_load)


def init_app(app: Flask) -> None:
    """Sign-in sessions ride on Flask's session cookie, which http/ makes HttpOnly, SameSite=Lax
    and Secure whenever the service is served over https."""
    login_manager.init_app(app)


def me() -> SignedIn:
    return cast(SignedIn, current_user._get_current_object())


def staff_required(view: F) -> F:
    return cast(F, login_required(view))


def admin_required(view: F) -> F:
    """Agents get 403 here, whatever the link they followed."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not me().is_admin:
            abort(403, "This page is for admins; ask one if you need a change here.")
        return view(*args, **kwargs)

    return cast(F, login_required(guarded))


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would let a phishing link borrow our name."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("staff.queue")


@blueprint.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(
    FAILED_SIGN_IN_LIMIT, methods=["POST"], deduct_when=lambda response: response.status_code == 401
)
def sign_in() -> str | Response | tuple[str, int]:
    email = request.form.get("email", "")
    if request.method == "GET":
        return render_template("staff/sign_in.html", email="", error=None)
    try:
        with runtime().db.transaction() as session:
            signed_in = SignedIn.of(authenticate(session, email, request.form.get("password", "")))
    except SignInFailed as exc:
        return render_template("staff/sign_in.html", email=email, error=exc.message), 401
    login_user(signed_in)
    return redirect(_safe_next(request.args.get("next")), code=303)


@blueprint.post("/sign-out")
@staff_required
def sign_out() -> Response:
    logout_user()
    return redirect(url_for("staff.sign_in"), code=303)
