"""Render email templates: one folder per email with subject.txt, body.txt and body.html.

HTML is rendered with autoescaping (form values are customer input) and its CSS is inlined
with css-inline, because most mail clients drop <style> blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import css_inline
import jinja2

PARTS = ("subject.txt", "body.txt", "body.html")


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class TemplateRenderer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        loader = jinja2.FileSystemLoader(str(folder))
        self._text = jinja2.Environment(
            loader=loader,
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        self._html = jinja2.Environment(
            loader=loader, autoescape=True, undefined=jinja2.StrictUndefined
        )
        self._inliner = css_inline.CSSInliner(load_remote_stylesheets=False)

    def names(self) -> Iterable[str]:
        """Template names: folders holding all three parts (shared layouts live in _layouts/)."""
        return sorted(
            p.name
            for p in self.folder.iterdir()
            if p.is_dir() and all((p / part).is_file() for part in PARTS)
        )

    def render(self, name: str, context: Mapping[str, Any]) -> RenderedEmail:
        subject = self._text.get_template(f"{name}/subject.txt").render(context)
        text = self._text.get_template(f"{name}/body.txt").render(context)
        html = self._html.get_template(f"{name}/body.html").render(context)
        return RenderedEmail(
            subject=" ".join(subject.split()), text=text, html=self._inliner.inline(html)
        )
