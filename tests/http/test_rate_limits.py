"""Issue 8 item 7: per-address rate limits on the public forms and the ticket reply form, counted
in memory on the embedded default and in Redis in production, with a page saying when to come
back."""

from __future__ import annotations

import re

import pytest
import redis

from tests.fixtures import backends
from tests.foundation.helpers import GENERAL_FORM, local_path, post_demo, submit
from ticketbridge.app import create_app
from ticketbridge.errors import ConfigError

LIMITS = {"form_rate_limit": "3 per hour", "reply_rate_limit": "2 per hour"}


def from_address(client, address: str):
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_the_public_forms_share_one_budget_per_address(make_runtime, db_url) -> None:
    app = create_app(runtime=make_runtime(database_url=db_url, **LIMITS))
    client = from_address(app.test_client(), "198.51.100.7")
    assert post_demo(client, token="SRV-limit-0001").status_code == 303
    assert post_demo(client, token="SRV-limit-0002").status_code == 303
    assert submit(client, "/requests/general", GENERAL_FORM).status_code == 303

    refused = post_demo(client, token="SRV-limit-0003")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    text = refused.text
    assert re.search(r"Please come back after \d\d:\d\d UTC \(in about \d+ minutes\)", text)
    assert client.get("/requests/demo").status_code == 200, "reading a form is not limited"

    other = from_address(app.test_client(), "203.0.113.9")
    assert post_demo(other, token="SRV-limit-0004").status_code == 303


def test_the_reply_form_has_its_own_limit(make_runtime, db_url) -> None:
    app = create_app(runtime=make_runtime(database_url=db_url, **LIMITS))
    client = from_address(app.test_client(), "198.51.100.8")
    page = local_path(submit(client, "/requests/general", GENERAL_FORM).headers["Location"])
    statuses = [
        submit(client, page, {"message": f"note {i}"}, action=f"{page}/messages").status_code
        for i in range(3)
    ]
    assert statuses[-1] == 429


def test_production_counts_in_redis(make_runtime, pg_url, redis_url) -> None:
    runtime = make_runtime(database_url=pg_url, redis_url=redis_url, **LIMITS)
    client = from_address(create_app(runtime=runtime).test_client(), "198.51.100.9")
    statuses = [post_demo(client, token=f"SRV-redis-000{i}").status_code for i in range(4)]
    assert statuses == [303, 303, 303, 429]
    store = redis.Redis.from_url(redis_url)
    counters = [key for key in store.keys() if b"198.51.100.9" in key]
    assert counters, "the counters are in Redis, where every web process reads them"
    store.delete(*counters)
    assert post_demo(client, token="SRV-redis-0005").status_code == 303


def test_behind_a_proxy_the_forwarded_address_is_the_client(make_runtime, db_url) -> None:
    app = create_app(runtime=make_runtime(database_url=db_url, proxy_count=1, **LIMITS))
    client = from_address(app.test_client(), "10.0.0.2")
    for i in range(4):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"198.51.100.{20 + i}"
        assert post_demo(client, token=f"SRV-proxy-000{i}").status_code == 303


def test_a_rate_limit_setting_that_does_not_parse_stops_start_up(tmp_path) -> None:
    with pytest.raises(ConfigError, match="TICKETBRIDGE_FORM_RATE_LIMIT: 'lots' is not a rate"):
        backends.test_settings(tmp_path, form_rate_limit="lots")
