"""Score reply-extraction libraries by class: the shared corpus's ``reply`` rows and the class
table of tests/email/reply_classes.py (issue 12).

Run: ``.venv/bin/python bench/email_reply_libraries.py`` (``-v`` lists the failures). The
corpus lives outside the repository (``../shared/corpus/emails`` or
``$TICKETBRIDGE_EMAIL_CORPUS``) because its files are under their authors' licenses. The
loader and checker are also used by the tests, so the benchmark and the regression tests agree
on the rules. Every candidate gets the same text and HTML; ours also gets where the HTML part
says the quote starts, which the others have no way to take.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ticketbridge.intake.email.parse import html_to_text, parse_message  # noqa: E402
from ticketbridge.intake.email.reply import extract_reply  # noqa: E402


def corpus_dir() -> Path:
    """The corpus folder: env override, else shared/corpus/emails beside the repository or
    beside a folder above it (a worktree such as /work/wt/NAME finds /work/shared)."""
    env = os.environ.get("TICKETBRIDGE_EMAIL_CORPUS")
    if env:
        return Path(env)
    candidates = [parent / "shared" / "corpus" / "emails" for parent in ROOT.parents]
    return next((path for path in candidates if path.is_dir()), candidates[0])


def unescape_tsv(value: str) -> str:
    """Undo the MANIFEST's TSV escaping (``\\n``, ``\\t``, ``\\\\``)."""
    table = {"n": "\n", "t": "\t", "\\": "\\"}
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value) and value[i + 1] in table:
            out.append(table[value[i + 1]])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def manifest_rows(corpus: Path) -> list[dict[str, str]]:
    """MANIFEST rows with ``expected`` unescaped."""
    with (corpus / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for row in rows:
        row["expected"] = unescape_tsv(row["expected"])
    return rows


class ReplyInput(NamedTuple):
    """A reply sample as the intake sees it: text part, HTML part, where the HTML's quote starts."""

    path: str
    text: str
    html: str | None
    quote_start: str | None
    expected: str


def reply_input(path: Path) -> tuple[str, str | None, str | None]:
    """(text, html, quote start) of a reply sample: ``.eml`` is parsed, ``.html`` is HTML, else
    plain text."""
    raw = path.read_bytes()
    if path.suffix == ".eml":
        parsed = parse_message(raw)
        return parsed.text, parsed.html, parsed.quote_start
    if path.suffix == ".html":
        return "", raw.decode("utf-8", "replace"), None
    return raw.decode("utf-8", "replace"), None, None


def corpus_replies(corpus: Path) -> list[ReplyInput]:
    """The corpus's reply rows with their inputs; none when the corpus is not there."""
    if not (corpus / "MANIFEST.tsv").is_file():
        return []
    return [
        ReplyInput(row["path"], *reply_input(corpus / row["path"]), row["expected"])
        for row in manifest_rows(corpus)
        if row["category"] == "reply"
    ]


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip()


def reply_ok(expected: str, got: str) -> bool:
    """Check an extracted reply against the MANIFEST expectation (exact text or ``~`` checks).

    ``reply_count=`` checks are about one library's list of quoted replies and are skipped.
    """
    got = _normalise(got)
    if not expected.startswith("~ "):
        return got == _normalise(expected)
    for check in expected[2:].split(" && "):
        key, _, value = check.partition("=")
        if key == "reply_count":
            continue
        needle = json.loads(value)
        if key == "contains" and needle not in got:
            return False
        if key == "not_contains" and needle in got:
            return False
        if key == "starts_with" and not got.startswith(needle):
            return False
    return True


def _email_reply_parser(text: str, html: str | None, quote_start: str | None) -> str:
    from email_reply_parser import EmailReplyParser

    return EmailReplyParser.parse_reply(text or html_to_text(html or ""))


def _mail_parser_reply(text: str, html: str | None, quote_start: str | None) -> str:
    from mailparser_reply import EmailReplyParser
    from mailparser_reply.constants import MAIL_LANGUAGES

    parser = EmailReplyParser(languages=list(MAIL_LANGUAGES))
    return parser.parse_reply(text=text or html_to_text(html or "")) or ""


CANDIDATES: dict[str, Callable[[str, str | None, str | None], str]] = {
    "email-reply-parser": _email_reply_parser,
    "mail-parser-reply": _mail_parser_reply,
    "ticketbridge extract_reply": extract_reply,
}


def samples() -> list[tuple[str, str, ReplyInput]]:
    """(class, label, input) of every corpus row and every class-table variant."""
    from tests.email.reply_classes import DECIDED, corpus_class, variants
    from tests.mail.mailbuild import email

    corpus = [
        (
            f"corpus: {corpus_class(r.path)}",
            r.path,
            r._replace(expected=DECIDED.get(r.path, r.expected)),
        )
        for r in corpus_replies(corpus_dir())
    ]
    table = []
    for name, text, html, expected in variants():
        parsed = parse_message(email(text=text or None, html=html))
        label = (text or html or "")[:50]
        table.append(
            (
                f"table: {name}",
                label,
                ReplyInput(label, parsed.text, parsed.html, parsed.quote_start, expected),
            )
        )
    return corpus + table


def main() -> None:
    """Print each candidate's share of samples handled right, per class, and the failures."""
    verbose = "-v" in sys.argv
    inputs = samples()
    classes = sorted({name for name, _, _ in inputs})
    scores: dict[str, dict[str, list[int]]] = {}
    for candidate, fn in CANDIDATES.items():
        score: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for name, label, sample in inputs:
            try:
                ok = reply_ok(sample.expected, fn(sample.text, sample.html, sample.quote_start))
            except Exception:  # noqa: BLE001 - a crashing library scores a failure
                ok = False
            score[name][0] += ok
            score[name][1] += 1
            if verbose and not ok:
                print(f"    {candidate} fails {name}: {label!r}")
        scores[candidate] = score
    print(f"{'class':58}" + "".join(f"{c[:26]:>28}" for c in CANDIDATES))
    for name in [*classes, "all"]:
        cells = []
        for candidate in CANDIDATES:
            score = scores[candidate]
            good, total = (
                [sum(v[0] for v in score.values()), sum(v[1] for v in score.values())]
                if name == "all"
                else score[name]
            )
            cells.append(f"{good}/{total} = {good / total:.0%}")
        print(f"{name:58}" + "".join(f"{cell:>28}" for cell in cells))


if __name__ == "__main__":
    main()
