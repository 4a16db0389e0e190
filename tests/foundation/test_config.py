"""Settings: defaults, environment overrides, and one clear line for every invalid value."""

from __future__ import annotations

from pathlib import Path

import pytest

from ticketbridge.config import load_settings
from ticketbridge.errors import ConfigError


def test_defaults_give_the_embedded_default(tmp_path: Path) -> None:
    settings = load_settings(environ={"TICKETBRIDGE_INSTANCE_PATH": str(tmp_path)})
    assert settings.embedded
    assert settings.database_url == f"sqlite:///{tmp_path / 'ticketbridge.sqlite3'}"
    assert settings.reply_domain == "ticketbridge.localhost"
    assert len(settings.secret_key) > 40
    assert (
        load_settings(environ={"TICKETBRIDGE_INSTANCE_PATH": str(tmp_path)}).secret_key
        == settings.secret_key
    )


def test_environment_overrides_defaults(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "TICKETBRIDGE_INSTANCE_PATH": str(tmp_path),
            "TICKETBRIDGE_DATABASE_URL": "postgresql://postgres@127.0.0.1/test",
            "TICKETBRIDGE_REDIS_URL": "redis://127.0.0.1:6379/0",
            "TICKETBRIDGE_SECRET_KEY": "s3cret-" + "x" * 40,
            "TICKETBRIDGE_SMTP_PORT": "2525",
        }
    )
    assert settings.database_url == "postgresql+psycopg://postgres@127.0.0.1/test"
    assert not settings.embedded
    assert settings.smtp_port == 2525
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "TICKETBRIDGE_SMTP_PORT",
            "twenty-five",
            "TICKETBRIDGE_SMTP_PORT: 'twenty-five' is not a whole number",
        ),
        (
            "TICKETBRIDGE_SMTP_PORT",
            "70000",
            "TICKETBRIDGE_SMTP_PORT: must be a port number from 1 to 65535",
        ),
        (
            "TICKETBRIDGE_SMTP_TLS",
            "maybe",
            "TICKETBRIDGE_SMTP_TLS: 'maybe' is not one of none, starttls, ssl",
        ),
        (
            "TICKETBRIDGE_PUBLIC_URL",
            "tickets.example.com",
            "TICKETBRIDGE_PUBLIC_URL: 'tickets.example.com' is not an http(s) URL",
        ),
        (
            "TICKETBRIDGE_DATABASE_URL",
            "mysql://x",
            "TICKETBRIDGE_DATABASE_URL: accepts sqlite:///PATH or postgresql+psycopg://USER@HOST/DB",
        ),
        (
            "TICKETBRIDGE_REDIS_URL",
            "redis://127.0.0.1",
            "TICKETBRIDGE_SECRET_KEY: required when TICKETBRIDGE_REDIS_URL is set",
        ),
    ],
)
def test_invalid_setting_names_itself_and_what_it_accepts(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"TICKETBRIDGE_INSTANCE_PATH": str(tmp_path), variable: value})
    assert caught.value.message.startswith(message)
    assert "\n" not in caught.value.message


def test_secrets_are_refused_in_the_config_file(tmp_path: Path) -> None:
    defaults = tmp_path / "defaults.toml"
    defaults.write_text('smtp_password = "hunter2"\n')
    with pytest.raises(
        ConfigError, match="smtp_password: secrets are read from the environment only"
    ):
        load_settings(environ={}, defaults_file=defaults)


def test_invalid_setting_stops_the_cli_with_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from ticketbridge.cli import main

    result = CliRunner().invoke(
        main,
        ["db", "current"],
        env={"TICKETBRIDGE_INSTANCE_PATH": str(tmp_path), "TICKETBRIDGE_IMAP_TLS": "yes"},
    )
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == "Error: TICKETBRIDGE_IMAP_TLS: 'yes' is not one of none, starttls, ssl"
    )


def test_config_show_masks_every_secret(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from ticketbridge.cli import main

    env = {
        "TICKETBRIDGE_INSTANCE_PATH": str(tmp_path),
        "TICKETBRIDGE_SMTP_PASSWORD": "hunter2-smtp",
        "TICKETBRIDGE_IMAP_PASSWORD": "hunter2-imap",
    }
    result = CliRunner().invoke(main, ["config", "show"], env=env)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["smtp_password"] == shown["imap_password"] == shown["secret_key"] == "***"
    assert "hunter2" not in result.output
    assert shown["instance_path"] == str(tmp_path)
