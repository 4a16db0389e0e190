"""Bounds on what one request may make the service read, parse and store.

Werkzeug bounds multipart forms (parts, memory per text part) but reads a URL-encoded body
whole and splits it into as many fields as it holds: a million junk fields took seconds of
CPU. The parser here holds URL-encoded bodies to the same field count and text size as
multipart ones. A NUL character is refused wherever a customer can type text: no database
column can hold it (PostgreSQL fails the whole transaction).
"""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qsl

from flask import Flask, Request, current_app, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser

MAX_BODY_BYTES = 32 * 1024 * 1024
"""A whole request, uploads included."""
MAX_FORM_TEXT_BYTES = 512 * 1024
"""One text field of a multipart form, or a whole URL-encoded form."""
MAX_FORM_FIELDS = 300
"""Fields (and files) in one form; the largest request form has a few dozen."""


class LimitedFormDataParser(FormDataParser):
    def _parse_urlencoded(
        self,
        stream: t.IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> tuple[t.IO[bytes], t.Any, t.Any]:
        body = stream.read(MAX_FORM_TEXT_BYTES + 1)
        if len(body) > MAX_FORM_TEXT_BYTES:
            raise RequestEntityTooLarge(
                f"A form without files may hold at most {MAX_FORM_TEXT_BYTES // 1024} KB of text."
            )
        try:
            items = parse_qsl(
                body.decode(),
                keep_blank_values=True,
                errors="werkzeug.url_quote",
                max_num_fields=MAX_FORM_FIELDS,
            )
        except ValueError:
            raise RequestEntityTooLarge(
                f"A form may hold at most {MAX_FORM_FIELDS} fields."
            ) from None
        return stream, self.cls(items), self.cls()


class LimitedRequest(Request):
    form_data_parser_class = LimitedFormDataParser


def refuse_nul_characters() -> None:
    """400 naming the first field, file name or query parameter that carries a NUL."""
    if request.path.startswith(current_app.config["TICKETBRIDGE_API_PREFIX"]):
        return  # the API authenticates before it reads a body, then checks its JSON itself
    sources = (
        ("field", request.form.items(multi=True)),
        ("query parameter", request.args.items(multi=True)),
        ("file name of field", ((k, f.filename or "") for k, f in request.files.items(multi=True))),
    )
    for kind, items in sources:
        for name, value in items:
            if "\x00" in name or "\x00" in value:
                raise BadRequest(
                    f"The {kind} {name.replace(chr(0), '')!r} contains a NUL character, which "
                    "no text can hold; remove it and send again."
                )


def init_app(app: Flask) -> None:
    app.request_class = LimitedRequest
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_FORM_TEXT_BYTES,
        MAX_FORM_PARTS=MAX_FORM_FIELDS,
    )
    app.before_request(refuse_nul_characters)
