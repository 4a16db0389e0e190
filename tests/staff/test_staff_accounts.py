"""Staff accounts, sign-in and roles: hashed passwords, the CLI, sessions that end with a
password reset or a disabled account, CSRF, the failed sign-in limit, admin-only pages."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask import Flask

from tests.staff.conftest import PASSWORD, signed_in
from ticketbridge.cli import main
from ticketbridge.runtime import Runtime
from ticketbridge.staff import accounts
from ticketbridge.staff.models import StaffUser


def _cli(runtime: Runtime, *args: str, stdin: str = "") -> tuple[int, str]:
    settings = runtime.settings
    env = {
        "TICKETBRIDGE_INSTANCE_PATH": str(settings.instance_path),
        "TICKETBRIDGE_DATABASE_URL": settings.database_url,
        "TICKETBRIDGE_WORKFLOWS_PATH": str(settings.workflows_path),
        "TICKETBRIDGE_SECRET_KEY": settings.secret_key,
    }
    result = CliRunner().invoke(main, list(args), env=env, input=stdin)
    return result.exit_code, result.output


def test_cli_creates_disables_and_resets_staff_with_argon2_hashes(staff_runtime: Runtime) -> None:
    code, out = _cli(
        staff_runtime,
        "staff",
        "create",
        "Eve@Team.Example",
        "--name",
        "Eve",
        "--role",
        "admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert code == 0, out
    assert "created admin eve@team.example (Eve)" in out
    with staff_runtime.db.transaction() as session:
        user = accounts.get_staff(session, "eve@team.example")
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert accounts.authenticate(session, "EVE@team.example", PASSWORD).id == user.id

    code, out = _cli(
        staff_runtime,
        "staff",
        "reset-password",
        "eve@team.example",
        "--password-stdin",
        stdin="another long passphrase\n",
    )
    assert code == 0, out
    with staff_runtime.db.transaction() as session:
        with pytest.raises(accounts.SignInFailed):
            accounts.authenticate(session, "eve@team.example", PASSWORD)
        accounts.authenticate(session, "eve@team.example", "another long passphrase")

    code, out = _cli(staff_runtime, "staff", "disable", "eve@team.example")
    assert (code, out.strip()) == (0, "disabled eve@team.example")
    with staff_runtime.db.transaction() as session:
        with pytest.raises(accounts.SignInFailed):
            accounts.authenticate(session, "eve@team.example", "another long passphrase")


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("create", "not-an-address", "--name", "X"), PASSWORD, "not a valid email address"),
        (("create", "x@team.example", "--name", "X"), "short", "use 12 to 1024 characters"),
        (("create", "x@team.example", "--name", " "), PASSWORD, "give the person's name"),
        (("disable", "nobody@team.example"), "", "no staff account for 'nobody@team.example'"),
        (("create", "x@team.example", "--name", "X", "--role", "boss"), PASSWORD, "'boss'"),
    ],
)
def test_cli_bad_input_is_one_line_naming_the_fault(
    staff_runtime: Runtime, args: tuple[str, ...], stdin: str, message: str
) -> None:
    extra = ("--password-stdin",) if args[0] == "create" else ()
    code, out = _cli(staff_runtime, "staff", *args, *extra, stdin=stdin + "\n")
    assert code != 0
    assert message in out
    assert "Traceback" not in out


def test_cli_refuses_a_second_account_for_one_address(staff_runtime: Runtime) -> None:
    for expected in (0, 1):
        code, out = _cli(
            staff_runtime,
            "staff",
            "create",
            "dup@team.example",
            "--name",
            "D",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        assert code == expected, out
    assert "already has a staff account" in out


def test_sign_in_sets_a_secure_http_only_samesite_cookie(app: Flask, people) -> None:
    client = app.test_client()
    assert client.get("/staff/").status_code == 302
    response = client.post(
        "/staff/sign-in?next=/staff/%3Fview%3Dmine",
        data={"email": "ann@team.example", "password": PASSWORD},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/?view=mine"
    cookie = response.headers["Set-Cookie"]
    for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in cookie
    assert client.get("/staff/").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil"])
def test_sign_in_never_redirects_off_site(app: Flask, people, target: str) -> None:
    response = app.test_client().post(
        "/staff/sign-in",
        query_string={"next": target},
        data={"email": "ann@team.example", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/staff/"


def test_wrong_password_and_unknown_address_get_the_same_answer(app: Flask, people) -> None:
    client = app.test_client()
    wrong = client.post("/staff/sign-in", data={"email": "ann@team.example", "password": "x" * 12})
    unknown = client.post(
        "/staff/sign-in", data={"email": "who@team.example", "password": "x" * 12}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert "do not match an active staff account" in wrong.text
    assert "do not match an active staff account" in unknown.text


def test_failed_sign_ins_are_rate_limited_and_successes_are_not(app: Flask, people) -> None:
    client = app.test_client()
    for _ in range(3):
        assert signed_in(app, "ann@team.example")
    codes = [
        client.post(
            "/staff/sign-in", data={"email": "ann@team.example", "password": "wrong password!"}
        ).status_code
        for _ in range(6)
    ]
    assert codes == [401] * 5 + [429]
    right = client.post("/staff/sign-in", data={"email": "ann@team.example", "password": PASSWORD})
    assert right.status_code == 429
    # Told to wait for the minute's window to end, by the limiter that refused it (not 1 s).
    assert int(right.headers["Retry-After"]) > 1


def test_a_password_reset_or_disable_ends_existing_sessions(
    app: Flask, staff_runtime: Runtime, people
) -> None:
    client = signed_in(app, "ann@team.example")
    assert client.get("/staff/").status_code == 200
    with staff_runtime.db.transaction() as session:
        accounts.set_password(accounts.get_staff(session, "ann@team.example"), "a new passphrase!")
    assert client.get("/staff/").status_code == 302

    client = signed_in(app, "bob@team.example")
    with staff_runtime.db.transaction() as session:
        accounts.disable_staff(session, "bob@team.example")
    assert client.get("/staff/").status_code == 302


def test_an_agent_gets_403_on_admin_pages_and_an_admin_does_not(app: Flask, people) -> None:
    assert signed_in(app, "ann@team.example").get("/staff/admin/").status_code == 403
    assert signed_in(app, "ada@team.example").get("/staff/admin/").status_code == 200


def test_every_staff_form_needs_the_csrf_token(app: Flask, people) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post(
        "/staff/sign-in", data={"email": "ann@team.example", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert "Form expired" in response.text
    page = client.get("/staff/sign-in").text
    assert 'name="csrf_token"' in page


def test_passwords_are_stored_only_as_argon2id(staff_runtime: Runtime, people) -> None:
    with staff_runtime.db.transaction() as session:
        hashes = [user.password_hash for user in session.query(StaffUser)]
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert len(set(hashes)) == 3
