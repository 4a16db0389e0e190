"""The reply-text table by class (issue 12), shared by tests/email/test_reply_classes.py and
bench/email_reply_libraries.py: (text part, HTML part, the new text the customer wrote).

Each class is one way a customer's new words come wrapped — a sign-off in their language, their
webmail's HTML quote, their phone's footer, a signature without ``-- `` — and its cases are
variants of it, not one client's example. Every case with a text part is also tried with our
own quoted ticket email below it, as a reply carries it. The corpus rows (read from
../shared/corpus/emails, never copied here) are sorted into the same classes by path.
"""

from __future__ import annotations

from collections.abc import Iterator

QUOTED = (
    "\n\nOn Mon, 3 Mar 2025 at 10:15, License Team <license@tickets.test> wrote:\n"
    "> Your ticket LIC-000001 is open.\n> Regards"
)
CASES: dict[str, list[tuple[str, str | None, str]]] = {
    "valediction in other languages": [
        (
            "Tak for hjælpen, det virker nu.\n\nHilsen\nPeter",
            None,
            "Tak for hjælpen, det virker nu.",
        ),
        (
            "Tak for hjælpen.\n\nMed venlig hilsen\nAnders Jensen\nAcme ApS",
            None,
            "Tak for hjælpen.",
        ),
        ("Takk, vi venter.\n\nMed vennlig hilsen\nKari", None, "Takk, vi venter."),
        ("Tack, det fungerar.\n\nVänliga hälsningar\nSven", None, "Tack, det fungerar."),
        (
            "Vielen Dank, alles klar.\n\nMit freundlichen Grüßen\nJonas Weber",
            None,
            "Vielen Dank, alles klar.",
        ),
        (
            "Bedankt voor de snelle reactie.\n\nMet vriendelijke groet,\nDaan",
            None,
            "Bedankt voor de snelle reactie.",
        ),
        (
            "Merci, la licence fonctionne.\n\nCordialement,\nClaire",
            None,
            "Merci, la licence fonctionne.",
        ),
        ("Gracias, ya funciona.\n\nSaludos cordiales,\nLucía", None, "Gracias, ya funciona."),
        (
            "Obrigado, já está tudo certo.\n\nAtenciosamente,\nJoão",
            None,
            "Obrigado, já está tudo certo.",
        ),
        ("Grazie, funziona.\n\nCordiali saluti\nMarco", None, "Grazie, funziona."),
        ("Dziękuję, działa.\n\nPozdrawiam\nAnna", None, "Dziękuję, działa."),
        ("Děkuji, funguje to.\n\nS pozdravem\nPetr", None, "Děkuji, funguje to."),
        ("Kiitos, toimii.\n\nYstävällisin terveisin\nMatti", None, "Kiitos, toimii."),
        ("Спасибо, всё работает.\n\nС уважением,\nИван", None, "Спасибо, всё работает."),
        (
            "Hilsen Peter is our new admin, please add him.",
            None,
            "Hilsen Peter is our new admin, please add him.",
        ),
    ],
    "webmail html quote": [
        (
            "",
            (
                '<div>Yes, please renew it.</div><div class="yahoo_quoted"><div>On Monday, '
                "License Team wrote:</div><div>Your ticket is open.</div></div>"
            ),
            "Yes, please renew it.",
        ),
        (
            "",
            (
                '<p>Please add five agents.</p><div class="protonmail_quote">------- '
                "Original Message -------<br>Your ticket is open.</div>"
            ),
            "Please add five agents.",
        ),
        (
            "",
            (
                '<div>Done, thanks.</div><div class="zmail_extra"><div>---- On Mon, 03 Mar '
                "2025 License Team wrote ----</div><div>Your ticket is open.</div></div>"
            ),
            "Done, thanks.",
        ),
        (
            "",
            (
                '<div>Attached is the log.</div><blockquote type="cite">Your ticket is '
                "open.<br>Please send the log.</blockquote>"
            ),
            "Attached is the log.",
        ),
        (
            "",
            (
                '<div>We moved the server.</div><hr id="zwchr"><div><b>From:</b> License '
                "Team<br>Your ticket is open.</div>"
            ),
            "We moved the server.",
        ),
        (
            "",
            (
                '<div>Here is the token.</div><div id="appendonsend"></div><div>Sent by '
                "the license team<br>Your ticket is open.</div>"
            ),
            "Here is the token.",
        ),
        (
            (
                "Please cancel the demo.\n\nLicense Team schrieb am 03.03.2025:\nYour ticket "
                "is open.\nRegards"
            ),
            (
                '<div>Please cancel the demo.</div><div class="gmx_quote"><div '
                'name="quote">License Team schrieb am 03.03.2025:<br>Your ticket is '
                "open.<br>Regards</div></div>"
            ),
            "Please cancel the demo.",
        ),
    ],
    "phone footer in other languages": [
        ("Thanks, that works.\n\nSent from my iPhone", None, "Thanks, that works."),
        ("Danke, passt.\n\nVon meinem iPhone gesendet", None, "Danke, passt."),
        ("Merci.\n\nEnvoyé de mon iPad", None, "Merci."),
        ("Gracias.\n\nEnviado desde mi Samsung Galaxy", None, "Gracias."),
        ("Grazie.\n\nInviato da iPhone", None, "Grazie."),
        ("Bedankt.\n\nVerzonden vanaf mijn iPhone", None, "Bedankt."),
        ("Tak.\n\nSendt fra min iPhone", None, "Tak."),
        ("Tack.\n\nSkickat från min iPhone", None, "Tack."),
        ("Dzięki.\n\nWysłane z iPhone'a", None, "Dzięki."),
        ("Спасибо.\n\nОтправлено с iPhone", None, "Спасибо."),
        ("Obrigado.\n\nEnviado do meu iPhone", None, "Obrigado."),
        ("Thanks.\n\nGet Outlook for Android", None, "Thanks."),
        ("Thanks.\n\nSent from Yahoo Mail on Android", None, "Thanks."),
        ("Thanks.\n\nSent from my Samsung Galaxy smartphone.", None, "Thanks."),
        ("Thanks.\n\n--\nSent from my Pixel 8 Pro", None, "Thanks."),
    ],
    "a sent-from line that is the customer's sentence": [
        (
            "Sent from my office: the license file you asked for is attached.",
            None,
            "Sent from my office: the license file you asked for is attached.",
        ),
        (
            (
                "Hello,\n\nSent from my colleague's account because mine is locked. Please "
                "add 5 agents."
            ),
            None,
            (
                "Hello,\n\nSent from my colleague's account because mine is locked. Please "
                "add 5 agents."
            ),
        ),
        (
            "The log is attached.\n\nSent from my iPhone because the laptop died, sorry for typos",
            None,
            "The log is attached.\n\nSent from my iPhone because the laptop died, sorry for typos",
        ),
        (
            "Sent from my phone the screenshots yesterday, did you get them?",
            None,
            "Sent from my phone the screenshots yesterday, did you get them?",
        ),
    ],
    "signature without dashes": [
        (
            "Please extend the demo.\n\nJane Doe\nIT Manager, Acme Corp\n+45 12 34 56 78",
            None,
            "Please extend the demo.",
        ),
        (
            "Please extend the demo.\n\nJane Doe\nAcme Corp | www.acme.example",
            None,
            "Please extend the demo.",
        ),
        (
            "Please extend the demo.\n\nJane Doe\nTel: +1 555 0100\njane@acme.example",
            None,
            "Please extend the demo.",
        ),
        ("Please extend the demo.\n\n__\nJane Doe\nAcme Corp", None, "Please extend the demo."),
        (
            "Please extend the demo.\n\nThanks,\nJane",
            None,
            "Please extend the demo.\n\nThanks,\nJane",
        ),
        (
            "Please call me back.\n\nMy number is +45 12 34 56 78 and I am in until five.",
            None,
            "Please call me back.\n\nMy number is +45 12 34 56 78 and I am in until five.",
        ),
    ],
}

CORPUS_CLASSES = {
    "alfonsrv-mail-parser-reply/": "quote header in other languages",
    "discourse/hebrew": "quote header in other languages",
    "talon/html_replies/": "webmail html quote",
    "talon/iphone": "phone footer in other languages",
    "github-email_reply_parser/email_multi_word_sent_from_my": "phone footer in other languages",
    "talon/sparrow": "signature with dashes",
    "github-email_reply_parser/correct_sig": "signature with dashes",
    "talon/signature/": "signature without dashes",
}
# talon keeps these signatures in its expected text; we cut signatures (reply.py's decision),
# and the corpus NOTES give the signature-free text.
DECIDED = {"talon/iphone.eml": "Hello", "talon/sparrow.eml": "Hello"}


def variants() -> Iterator[tuple[str, str, str | None, str]]:
    """(class, text, html, expected) for every case, and with a quoted ticket email below it."""
    for name, cases in CASES.items():
        for text, html, expected in cases:
            for variant in [text, text + QUOTED] if text else [text]:
                yield name, variant, html, expected


def corpus_class(path: str) -> str:
    return next(
        (name for prefix, name in CORPUS_CLASSES.items() if path.startswith(prefix)),
        "quoted history",
    )
