"""A throwaway, migrated PostgreSQL database for a benchmark run, dropped however the run ends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from ticketbridge import migrate

PG = "postgresql://postgres@127.0.0.1:5432"


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    name = f"tb_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        migrate.upgrade(url)
        yield url
    finally:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
