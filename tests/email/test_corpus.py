"""Regression floor for parsing, reply extraction and loop detection on real-world mail.

Every MANIFEST row is parsed (which must never raise); the facts of ``expected`` that this
package models are checked, and the share of rows handled right per category must stay at
or above the floors below (set just under what is achieved, so a regression fails).
The corpus stays outside the repository (its files are under their authors' licenses).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from bench.email_reply_libraries import corpus_dir, manifest_rows, reply_input, reply_ok
from tests.fixtures.backends import required
from ticketbridge.intake.email.loops import Automation, classify
from ticketbridge.intake.email.parse import ParsedEmail, parse_message
from ticketbridge.intake.email.reply import extract_reply

CORPUS = corpus_dir()

# Achieved: mime 30/33, reply 34/36, autoreply 12/12, bounce 25/29, thread 13/13.
# Values that are descriptions rather than data (``subject=raw 8-bit (unknown charset)``)
# are not checked.
FLOORS = {"mime": 0.90, "reply": 0.94, "autoreply": 1.0, "bounce": 0.86, "thread": 1.0}

_FACT_RE = re.compile(r'([\w.\[\]]+)=("(?:[^"\\]|\\.)*"|[^;]*)(?:;\s*|$)')

Check = Callable[[ParsedEmail, Automation, str], bool]


def _plain(value: str) -> str:
    """Fact value without its explanation in parentheses; JSON strings decoded."""
    if value.startswith('"'):
        return json.JSONDecoder().raw_decode(value)[0]
    return re.sub(r"\s*\(.*\)\s*$", "", value).strip()


def _optional_id(value: str) -> str | None:
    return None if value in {"", "(blank)", "(empty)", "(none)"} else value


def _bounce_check(p: ParsedEmail, a: Automation, v: str) -> bool:
    if v.startswith("no"):
        return a.kind != "bounce"
    soft = "(soft)" in v
    return a.kind == "bounce" and (not soft or a.bounce_kind == "soft")


CHECKS: dict[str, Check] = {
    "subject": lambda p, a, v: not v.startswith('"') or p.subject.strip() == _plain(v).strip(),
    "from_email": lambda p, a, v: p.from_address == _plain(v).split()[-1].lower(),
    "from_display_name": lambda p, a, v: p.from_name == _plain(v),
    "to": lambda p, a, v: list(p.to) == re.findall(r"[\w.+-]+@[\w.-]+", v),
    "message_id": lambda p, a, v: p.message_id == _optional_id(_plain(v)) or "generate" in v,
    "in_reply_to": lambda p, a, v: p.in_reply_to == _optional_id(_plain(v)),
    "references": lambda p, a, v: " ".join(p.references) == (_optional_id(_plain(v)) or ""),
    "body": lambda p, a, v: (
        p.text.strip() == ("" if v == "(empty)" else _plain(v).strip())
        or not v.startswith(('"', "(empty)"))
    ),
    "attachments": lambda p, a, v: not _plain(v).isdigit() or len(p.attachments) == int(v),
    "filename": lambda p, a, v: _plain(v) in {att.filename for att in p.attachments},
    "attachments[0].filename": lambda p, a, v: p.attachments[0].filename == _plain(v),
    # The corpus's "autoreply=yes" is Zammad's send-auto-response=false: no automatic answer.
    # A person asking for none (X-Auto-Response-Suppress) meets it without being a machine.
    "autoreply": lambda p, a, v: (not a.answerable) == v.startswith("yes"),
    "bounce": _bounce_check,
    "status": lambda p, a, v: a.status == _plain(v),
    "complaint": lambda p, a, v: (a.kind == "complaint") == v.startswith("yes"),
    "permanent": lambda p, a, v: a.bounce_kind == "hard",
    "temporary": lambda p, a, v: a.bounce_kind == "soft",
    "hardbounce": lambda p, a, v: (a.bounce_kind == "hard") == v.startswith("yes"),
}


def row_failures(row: dict[str, str]) -> list[str]:
    """Names of the facts of one MANIFEST row that the package gets wrong."""
    path = CORPUS / row["path"]
    if row["category"] == "reply":
        text, html, quote_start = reply_input(path)
        return (
            [] if reply_ok(row["expected"], extract_reply(text, html, quote_start)) else ["reply"]
        )
    parsed = parse_message(path.read_bytes())
    automation = classify(parsed)
    failures = []
    for key, value in _FACT_RE.findall(row["expected"]):
        check = CHECKS.get(key)
        if check is not None and not check(parsed, automation, value.strip()):
            failures.append(key)
    return failures


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    if not (CORPUS / "MANIFEST.tsv").is_file():
        required(f"email corpus not found at {CORPUS} (set TICKETBRIDGE_EMAIL_CORPUS)")
    return manifest_rows(CORPUS)


def test_every_corpus_message_parses(rows: list[dict[str, str]]) -> None:
    for row in rows:
        parsed = parse_message((CORPUS / row["path"]).read_bytes())
        assert len(parsed.content_hash) == 64
        classify(parsed)


def test_share_handled_right_per_category(rows: list[dict[str, str]]) -> None:
    totals: dict[str, list[int]] = {}
    misses: list[str] = []
    for row in rows:
        failures = row_failures(row)
        counts = totals.setdefault(row["category"], [0, 0])
        counts[0] += not failures
        counts[1] += 1
        if failures:
            misses.append(f"{row['category']:9} {row['path']}: {', '.join(failures)}")
    print("\n".join(["", *misses]))
    for category, (good, total) in sorted(totals.items()):
        print(f"{category:9} {good}/{total} = {good / total:.0%}")
    for category, (good, total) in totals.items():
        assert good / total >= FLOORS[category], f"{category}: {good}/{total}"
