"""Score reply-extraction libraries on the shared email corpus (rows of category ``reply``).

Run: ``.venv/bin/python bench/email_reply_libraries.py``. The corpus lives outside the
repository (``../shared/corpus/emails`` or ``$TICKETBRIDGE_EMAIL_CORPUS``) because its files
are under their authors' licenses. The loader and checker are also used by
``tests/email/test_corpus.py`` so the benchmark and the regression test agree on the rules.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

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


def reply_input(path: Path) -> tuple[str, str | None]:
    """(text, html) of a reply sample: ``.eml`` is parsed, ``.html`` is HTML, else plain text."""
    raw = path.read_bytes()
    if path.suffix == ".eml":
        parsed = parse_message(raw)
        return parsed.text, parsed.html
    if path.suffix == ".html":
        return "", raw.decode("utf-8", "replace")
    return raw.decode("utf-8", "replace"), None


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


def _email_reply_parser(text: str, html: str | None) -> str:
    from email_reply_parser import EmailReplyParser

    return EmailReplyParser.parse_reply(text or html_to_text(html or ""))


def _mail_parser_reply(text: str, html: str | None) -> str:
    from mailparser_reply import EmailReplyParser
    from mailparser_reply.constants import MAIL_LANGUAGES

    parser = EmailReplyParser(languages=list(MAIL_LANGUAGES))
    return parser.parse_reply(text=text or html_to_text(html or "")) or ""


CANDIDATES: dict[str, Callable[[str, str | None], str]] = {
    "email-reply-parser": _email_reply_parser,
    "mail-parser-reply": _mail_parser_reply,
    "ticketbridge extract_reply": extract_reply,
}


def main() -> None:
    """Print each candidate's share of reply rows handled right, and the failures."""
    corpus = corpus_dir()
    rows = [r for r in manifest_rows(corpus) if r["category"] == "reply"]
    inputs = [reply_input(corpus / r["path"]) for r in rows]
    verbose = "-v" in sys.argv
    for name, fn in CANDIDATES.items():
        failed = []
        for row, (text, html) in zip(rows, inputs, strict=True):
            try:
                ok = reply_ok(row["expected"], fn(text, html))
            except Exception:  # noqa: BLE001 - a crashing library scores a failure
                ok = False
            if not ok:
                failed.append(row["path"])
        passed = len(rows) - len(failed)
        print(f"{name:28} {passed}/{len(rows)} = {passed / len(rows):.0%}")
        if verbose:
            for path in failed:
                print("    fail:", path)


if __name__ == "__main__":
    main()
