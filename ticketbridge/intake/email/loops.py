"""Tell human mail from auto-replies, bounces and spam complaints, so tickets do not loop.

A helpdesk that answers every message will ping-pong with out-of-office robots and keep
reopening tickets on bounces. ``classify`` decides from headers and MIME structure, in this
order (the first rule that fires wins, and ``reason`` names it):

1. complaint: ``multipart/report; report-type=feedback-report``, a ``message/feedback-report``
   part (ARF), or Hotmail's JMRP ("complaint about message from ..." with the message
   attached). A complaint is not a bounce: the address works, the person does not want mail.
2. bounce: ``multipart/report; report-type=delivery-status`` or a ``message/delivery-status``
   part (RFC 3464), else a sender named MAILER-DAEMON / mail-daemon, or postmaster (or an
   empty Return-Path) with a delivery-failure subject. ``status`` is the first DSN
   ``Status:`` (a 5.x.x one preferred), else an ``N.N.N`` code in the text. Status 5.x.x
   is a hard bounce, 4.x.x or ``Action: delayed`` a soft one.
   Decision: a delay warning is a *soft bounce*, not a human mail and not an auto-reply;
   flufl.bounce agrees, Zammad and the mail gem disagree (two corpus rows each way).
3. autoreply: ``Auto-Submitted`` other than ``no`` (RFC 3834), ``Precedence: bulk/junk/list``,
   ``X-Autoreply`` / ``X-Autorespond`` / ``X-Autoresponder``, ``X-Auto-Response-Suppress``
   with ``All``/``OOF``/``AutoReply``, and typical subjects ("Out of Office",
   "Automatic reply", "Auto:", "Abwesenheitsnotiz", ...).
   Decision on ``X-Auto-Response-Suppress``: treated as automatic, because that is what
   scores best on the corpus (Zammad's sample carries no other sign; Discourse's counter
   example is not in it) and because Exchange sets ``All`` mostly on system-generated mail.
   The cost is that a human reply from an Exchange client that sets it is flagged too; the
   intake still creates or updates the ticket for auto-replies, it only sends no answer.

Corpus figures (``tests/email/test_corpus.py``): autoreply 12/12, bounce 25/29. Misses: the
two delay warnings that the mail gem and Zammad call "not a bounce", and two text-only
bounces that gave up after a timeout, which flufl.bounce calls permanent (qmail, #4.4.1)
and sisimai soft (exim, no code in the text): we follow the status code when there is one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from typing import Literal

from ticketbridge.intake.email.parse import Attachment, ParsedEmail, decode_bytes

Kind = Literal["human", "autoreply", "bounce", "complaint"]

_STATUS_RE = re.compile(r"^\s*Status\s*:\s*([245]\.\d{1,3}\.\d{1,3})", re.I | re.M)
_ACTION_RE = re.compile(r"^\s*Action\s*:\s*(\w+)", re.I | re.M)
_TEXT_STATUS_RE = re.compile(r"(?<![\d.])([45]\.\d{1,3}\.\d{1,3})(?![\d.])")
_MSGID_LINE_RE = re.compile(r"^\s*Message-ID\s*:\s*(<[^<>\s]+>)", re.I | re.M)
_BOUNCE_SUBJECT_RE = re.compile(
    r"undeliver|undelivered|delivery (status|failure|notification|problem|has failed)|"
    r"returned mail|mail delivery failed|failure notice|failure delivery|delivery failed|"
    r"delayed|warning: could not send|unzustellbar|nicht zustellbar|übermittlungsstatus|"
    r"non remis|non recapitabile|no entregado|mail system error",
    re.I,
)
_SOFT_SUBJECT_RE = re.compile(r"delay|warning|verzögert|retard", re.I)
_AUTOREPLY_SUBJECT_RE = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto(matic)?[ -]?(reply|response)|auto:|"
    r"autoreply|abwesenheitsnotiz|abwesend|réponse automatique|absence|respuesta automática|"
    r"risposta automatica|automatisch antwoord|afwezig|vacation( reply)?:|on vacation|"
    r"away from (the )?office)",
    re.I,
)
_COMPLAINT_SUBJECT_RE = re.compile(r"^\s*complaint about message from", re.I)
_XARS_AUTOMATIC = {"all", "oof", "autoreply"}


@dataclass(frozen=True)
class Automation:
    """The verdict: who wrote this mail, and for bounces what failed and which mail of ours."""

    kind: Kind
    bounce_kind: Literal["hard", "soft"] | None
    status: str | None
    original_message_id: str | None
    reason: str


def _header(parsed: ParsedEmail, name: str) -> str:
    """First value of a header, lowercased and stripped, '' when absent."""
    value = parsed.header(name)
    return value.strip().lower() if value else ""


def _report_type(parsed: ParsedEmail) -> str:
    """``report-type`` of a top-level ``multipart/report``, '' otherwise."""
    ctype = _header(parsed, "content-type")
    if not ctype.startswith("multipart/report"):
        return ""
    match = re.search(r'report-type\s*=\s*"?([\w-]+)', ctype)
    return match.group(1) if match else "unknown"


def _parts(parsed: ParsedEmail, *types: str) -> list[Attachment]:
    return [a for a in parsed.attachments if a.content_type in types]


def _original_message_id(parsed: ParsedEmail) -> str | None:
    """Message-ID of the returned mail: from the attached message/headers, else the text."""
    for part in _parts(parsed, "message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
        headers = BytesParser(policy=policy.compat32).parsebytes(part.payload, headersonly=True)
        match = re.search(r"<[^<>\s]+>", str(headers.get("Message-ID", "")))
        if match:
            return match.group(0)
    match = _MSGID_LINE_RE.search(parsed.text)
    return match.group(1) if match else None


def _dsn_fields(parsed: ParsedEmail) -> tuple[str | None, str | None]:
    """(status, action) of a DSN: a failed 5.x.x recipient wins over others."""
    reports = " \n".join(
        decode_bytes(p.payload, "utf-8") for p in _parts(parsed, "message/delivery-status")
    )
    statuses = _STATUS_RE.findall(reports)
    status = next((s for s in statuses if s.startswith("5")), statuses[0] if statuses else None)
    if status is None:
        match = _TEXT_STATUS_RE.search(parsed.text)
        status = match.group(1) if match else None
    actions = [a.lower() for a in _ACTION_RE.findall(reports)]
    action = "failed" if "failed" in actions else (actions[0] if actions else None)
    return status, action


def _bounce(parsed: ParsedEmail, reason: str) -> Automation:
    status, action = _dsn_fields(parsed)
    soft = action == "delayed" or (
        status.startswith("4") if status else bool(_SOFT_SUBJECT_RE.search(parsed.subject))
    )
    return Automation(
        "bounce", "soft" if soft else "hard", status, _original_message_id(parsed), reason
    )


def _complaint_reason(parsed: ParsedEmail) -> str | None:
    if _report_type(parsed) == "feedback-report":
        return "multipart/report; report-type=feedback-report"
    if _parts(parsed, "message/feedback-report"):
        return "message/feedback-report part"
    if _COMPLAINT_SUBJECT_RE.search(parsed.subject) and _parts(parsed, "message/rfc822"):
        return "subject: complaint about message (JMRP)"
    return None


def _bounce_reason(parsed: ParsedEmail) -> str | None:
    report = _report_type(parsed)
    if report == "delivery-status":
        return "multipart/report; report-type=delivery-status"
    if _parts(parsed, "message/delivery-status"):
        return "message/delivery-status part"
    local = parsed.from_address.split("@")[0]
    if local in {"mailer-daemon", "mail-daemon"}:
        return f"from: {local}"
    null_sender = _header(parsed, "return-path") in {"<>", ""} and "return-path" in parsed.headers
    if (local == "postmaster" or null_sender) and _BOUNCE_SUBJECT_RE.search(parsed.subject):
        return "postmaster or null sender with a delivery-failure subject"
    if report:
        return f"multipart/report; report-type={report}"
    return None


def _autoreply_reason(parsed: ParsedEmail) -> str | None:
    auto = _header(parsed, "auto-submitted")
    if auto and not auto.startswith("no"):
        return f"Auto-Submitted: {auto}"
    precedence = _header(parsed, "precedence") or _header(parsed, "x-precedence")
    if precedence in {"bulk", "junk", "list", "auto_reply"}:
        return f"Precedence: {precedence}"
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder", "x-autogenerated"):
        if name in parsed.headers:
            return f"{name} present"
    xars = {v.strip() for v in _header(parsed, "x-auto-response-suppress").split(",")}
    if xars & _XARS_AUTOMATIC:
        return "X-Auto-Response-Suppress: " + _header(parsed, "x-auto-response-suppress")
    if _AUTOREPLY_SUBJECT_RE.search(parsed.subject):
        return "auto-reply subject"
    return None


def classify(parsed: ParsedEmail) -> Automation:
    """Classify one parsed message; pure and cheap, safe to run on every inbound mail."""
    reason = _complaint_reason(parsed)
    if reason:
        return Automation("complaint", None, None, _original_message_id(parsed), reason)
    reason = _bounce_reason(parsed)
    if reason:
        return _bounce(parsed, reason)
    reason = _autoreply_reason(parsed)
    if reason:
        return Automation("autoreply", None, None, None, reason)
    return Automation("human", None, None, None, "no automation sign")
