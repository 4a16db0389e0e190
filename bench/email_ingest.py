"""Inbound email, measured the way the peer is: `ticketbridge mail fetch --once` as its own process.

Each run appends mail to a private Dovecot, starts `python -m ticketbridge mail fetch --once`
(configured through TICKETBRIDGE_* variables only, process start-up included, as
../shared/peer-bench times it) and reports messages per second and the peak memory of the
fetcher's whole process tree (the fetcher and its helper, RSS summed, sampled every 20 ms), and
the fetcher's CPU seconds (with its helper's), which the machine's load disturbs far less than
wall-clock rates.
Two figures per kind of mail:

- **ingested (receipts queued)**: the fetcher has stored every message and queued every
  receipt; on PostgreSQL + Redis no worker runs, so the receipts wait in rq;
- **end to end (receipts accepted by SMTP)**: the fetcher has stored every message *and* an
  SMTP server (aiosmtpd here, counting only) has accepted every receipt — on the embedded
  default (SQLite, jobs in the fetcher's process, which delivers after each batch commits) and
  on PostgreSQL through `ticketbridge worker` processes on Redis started before the fetch.

Kinds of mail: new requests (5 KB multipart/alternative from distinct senders, each opening a
general request with a receipt), replies to those requests' receipts (5 KB, quoted, joining
their tickets; no receipt), new requests with a 150 KB PDF attachment.

    .venv/bin/python -m bench.email_ingest --messages 1000 --large 100 --workers 2

With `--json FILE` (bench/run_all) each fetch also reports its rate and two memory figures
judged against the proof issue's bounds: the whole process tree (≤ 200 MB) and its largest
process (≤ 150 MB). Figures and the history of this benchmark are in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from redis import Redis
from sqlalchemy import create_engine, select

from bench.databases import throwaway_postgres as postgres
from bench.figures import Figure, watch_memory, write
from bench.services import REDIS, Sink, environment, smtp_sink, start_workers, stop
from tests.fixtures.dovecot import DovecotServer, _dovecot_binary, running_dovecot
from ticketbridge import migrate
from ticketbridge.clock import utcnow
from ticketbridge.config import PROJECT_ROOT
from ticketbridge.outbox.models import OutboxEmail

BENCHMARK = "inbound email, ingested and end to end"
PARAGRAPH = (
    "We run the contact center on two servers and would like to know how the license moves when we "
    "replace the staging machine next month; the agents should not notice anything. "
)


@contextmanager
def dovecot() -> Iterator[DovecotServer]:
    binary = _dovecot_binary()
    if binary is None:
        sys.exit("dovecot is not installed: apt-get install -y dovecot-imapd")
    with running_dovecot(binary, "bench-password") as server:
        yield server


@contextmanager
def sqlite(instance: Path) -> Iterator[str]:
    url = f"sqlite:///{instance / 'bench.sqlite3'}"
    migrate.upgrade(url)
    yield url


def mail(
    n: int,
    *,
    size: int,
    to: str = "license@bench.example",
    subject: str | None = None,
    quote: str = "",
    in_reply_to: str | None = None,
    attachment: int = 0,
) -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = f"Customer {n} <customer{n}@acme{n % 50}.example>"
    message["To"] = to
    message["Subject"] = subject or f"Question {n} about our license"
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=f"acme{n % 50}.example")
    if in_reply_to:
        message["In-Reply-To"] = message["References"] = in_reply_to
    new = f"Hello, this is message {n}.\n\n" + PARAGRAPH * max(
        1, (size // 2 - len(quote)) // len(PARAGRAPH)
    )
    text = new + (
        "\n\nOn Mon, 3 Mar 2025 at 10:15, License Team wrote:\n"
        + "\n".join(f"> {line}" for line in quote.splitlines())
        if quote
        else ""
    )
    message.set_content(text)
    message.add_alternative(
        "<html><body>"
        + "".join(f"<p>{line}</p>" for line in text.splitlines() if line)
        + "</body></html>",
        subtype="html",
    )
    if attachment:
        message.add_attachment(
            os.urandom(attachment),
            maintype="application",
            subtype="pdf",
            filename=f"server-log-{n}.pdf",
        )
    return message.as_bytes()


@dataclass
class Setup:
    """One database and instance, the mailbox, the sink and the environment the fetcher gets."""

    server: DovecotServer
    sink: Sink
    env: dict[str, str]
    database_url: str
    figures: list[Figure]

    def fetch(self, label: str, count: int, receipts: int, size: int) -> None:
        """Run one `mail fetch --once`; time it until it exits and the sink has `receipts` more."""
        expected = self.sink.count + receipts
        cpu_before = children_cpu()
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "ticketbridge", "mail", "fetch", "--once"],
            env=self.env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        with watch_memory([process.pid], interval=0.02) as memory:
            output = process.communicate()[0].decode(errors="replace")
        if process.returncode != 0:
            sys.exit(f"{label}: the fetcher failed:\n{output}")
        while self.sink.count < expected:
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        cpu = children_cpu() - cpu_before
        print(
            f"{label:<58} {count:>5} x {size / 1024:>4.0f} KB  {elapsed:6.2f}s  "
            f"{count / elapsed:5.0f}/s  fetcher CPU {cpu:6.2f}s ({count / cpu:4.0f}/CPU-s)  "
            f"peak tree {memory.tree:4.0f} MB",
            flush=True,
        )
        what = f"{label}, {size / 1024:.0f} KB"
        self.figures += [
            Figure(BENCHMARK, f"{what}: mails/s", count / elapsed, "mails/s", note=f"{count}"),
            Figure(BENCHMARK, f"{what}: mails per fetcher CPU second", count / cpu, "mails/s"),
            Figure(
                BENCHMARK,
                f"{what}: fetcher process tree peak memory",
                memory.tree,
                "MB",
                target=200,
                higher_is_better=False,
            ),
            Figure(
                BENCHMARK,
                f"{what}: largest fetcher process peak memory",
                memory.largest(),
                "MB",
                target=150,
                higher_is_better=False,
            ),
        ]


def children_cpu() -> float:
    """CPU seconds of this process's reaped children: a fetcher and the helper it waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def setup(
    server: DovecotServer,
    sink_port: int,
    sink: Sink,
    database_url: str,
    redis: str,
    batch: int,
    figures: list[Figure],
) -> Iterator[Setup]:
    server.clear()
    with tempfile.TemporaryDirectory(prefix="tb-bench-instance-") as instance:
        env = environment(
            {
                "instance_path": instance,
                "database_url": database_url,
                "redis_url": redis,
                "secret_key": "bench-secret-0123456789abcdef0123456789",
                "mail_from": "License Team <license@bench.example>",
                "smtp_host": "127.0.0.1",
                "smtp_port": sink_port,
                "smtp_tls": "none",
                "imap_host": server.host,
                "imap_port": server.port,
                "imap_user": server.user,
                "imap_password": server.password,
                "imap_tls": "none",
                "imap_batch_size": batch,
                "mail_rate_cap_per_hour": 0,
                "receipt_cap_per_sender_per_hour": 0,
            }
        )
        yield Setup(server, sink, env, database_url, figures)


def receipts(database_url: str) -> list[EmailMessage]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        raws = list(connection.scalars(select(OutboxEmail.raw).order_by(OutboxEmail.id)))
    engine.dispose()
    return [message_from_bytes(raw, policy=policy.default) for raw in raws]  # type: ignore[misc]


def run_kinds(run: Setup, name: str, args: argparse.Namespace, with_receipts: bool) -> None:
    """New requests, replies to their receipts, then requests with an attachment."""
    new = [mail(n, size=5 * 1024) for n in range(args.messages)]
    run.server.append_many(new)
    run.fetch(f"{name}: new requests", len(new), len(new) if with_receipts else 0, len(new[0]))
    replies = [
        mail(
            n,
            size=5 * 1024,
            to=str(receipt["Reply-To"]),
            subject=f"Re: {receipt['Subject']}",
            quote=receipt.get_body(("plain",)).get_content(),
            in_reply_to=str(receipt["Message-ID"]),
        )
        for n, receipt in enumerate(receipts(run.database_url))
    ]
    run.server.append_many(replies)
    run.fetch(f"{name}: replies", len(replies), 0, len(replies[0]))
    if args.large:
        large = [mail(10**6 + n, size=4 * 1024, attachment=150 * 1024) for n in range(args.large)]
        run.server.append_many(large)
        run.fetch(
            f"{name}: new requests, attachment",
            len(large),
            len(large) if with_receipts else 0,
            len(large[0]),
        )


@contextmanager
def workers(env: dict[str, str], count: int) -> Iterator[None]:
    """`count` workers, registered with rq before the fetch, so it is not timed against their
    start-up."""
    with tempfile.TemporaryDirectory(prefix="tb-bench-workers-") as logs:
        started = start_workers(env, count, Path(logs))
        try:
            yield
        finally:
            stop(started)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--messages", type=int, default=1000, help="5 KB new requests, as many replies"
    )
    parser.add_argument("--large", type=int, default=100, help="150 KB attachment requests")
    parser.add_argument("--workers", type=int, default=2, help="rq workers for the end-to-end run")
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--redis", default=REDIS, help="a Redis database this run may flush")
    parser.add_argument("--json", help="append the figures to this file (for bench/run_all)")
    args = parser.parse_args()
    figures: list[Figure] = []
    redis = Redis.from_url(args.redis)
    with dovecot() as server, smtp_sink() as (sink, port):
        with tempfile.TemporaryDirectory() as folder, sqlite(Path(folder)) as url:
            with setup(server, port, sink, url, "", args.batch, figures) as run:
                run_kinds(run, "embedded default, end to end", args, with_receipts=True)
        redis.flushdb()
        with (
            postgres() as url,
            setup(server, port, sink, url, args.redis, args.batch, figures) as run,
        ):
            run_kinds(run, "PostgreSQL + rq, ingested (receipts queued)", args, with_receipts=False)
        redis.flushdb()
        with (
            postgres() as url,
            setup(server, port, sink, url, args.redis, args.batch, figures) as run,
        ):
            with workers(run.env, args.workers):
                run_kinds(
                    run,
                    f"PostgreSQL + rq, end to end ({args.workers} workers)",
                    args,
                    with_receipts=True,
                )
        redis.flushdb()
    write(args.json, figures)


if __name__ == "__main__":
    main()
