"""Bad input, generated: a malformed workflow or catalogue file is an error with a line, always.

Admins edit these files by hand, so every mistake must come back as `file:line:col: what — how`
and never as a traceback. Hypothesis starts from the shipped files and breaks them the ways
people do: a key dropped or misspelt, a value of the wrong type, a list where a mapping was, a
YAML tag, a stray character in the text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ticketbridge.config import PROJECT_ROOT
from ticketbridge.errors import ConfigError
from ticketbridge.intake.vocabulary import CatalogueVocabulary
from ticketbridge.licenses.catalogue import load_catalogue
from ticketbridge.outbox.render import TemplateRenderer
from ticketbridge.steps import installed
from ticketbridge.workflow.loader import parse_workflow
from ticketbridge.workflow.problems import WorkflowLoadError

STEPS = installed.load()
TEMPLATES = TemplateRenderer(PROJECT_ROOT / "email_templates")
WORKFLOW_TEXTS = [p.read_text() for p in sorted((PROJECT_ROOT / "workflows").glob("*.yaml"))]
CATALOGUE_TEXT = (PROJECT_ROOT / "config" / "catalogue.yaml").read_text()
FORMS = CatalogueVocabulary(load_catalogue(PROJECT_ROOT / "config" / "catalogue.yaml"))
WHERE = re.compile(r":\d+:\d+: ")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(["received", "staff", "automatic", "timer", "form.x > 1", "1 +", "", "~"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def broken_tree(draw: st.DrawFn, tree: Any) -> Any:
    """The tree with one node somewhere deleted, replaced, renamed or given an extra key."""
    if isinstance(tree, dict) and tree and draw(st.integers(0, 3)):
        key = draw(st.sampled_from(sorted(tree, key=str)))
        copy = dict(tree)
        match draw(st.sampled_from(["descend", "delete", "replace", "rename", "extra"])):
            case "descend":
                copy[key] = draw(broken_tree(tree[key]))
            case "delete":
                del copy[key]
            case "replace":
                copy[key] = draw(values)
            case "rename":
                copy[f"{key}x"] = copy.pop(key)
            case "extra":
                copy[draw(st.text(min_size=1, max_size=10))] = draw(values)
        return copy
    if isinstance(tree, list) and tree and draw(st.integers(0, 3)):
        at = draw(st.integers(0, len(tree) - 1))
        copy = list(tree)
        copy[at] = draw(broken_tree(tree[at])) if draw(st.booleans()) else draw(values)
        return copy
    return draw(values)


@st.composite
def broken_text(draw: st.DrawFn, text: str) -> str:
    """The file's text with a tag, a tab, a stray quote or a cut somewhere."""
    at = draw(st.integers(0, len(text)))
    piece = draw(
        st.sampled_from(["!!python/object:os.system ", "\t", '"', "'", ": ", "- ", "{", "&a *a "])
    )
    return text[:at] + piece + (text[at:] if draw(st.booleans()) else "")


def broken_workflows() -> st.SearchStrategy[str]:
    trees = st.sampled_from([yaml.safe_load(t) for t in WORKFLOW_TEXTS]).flatmap(broken_tree)
    dumped = trees.map(lambda tree: yaml.safe_dump(tree, sort_keys=False, allow_unicode=True))
    return st.one_of(dumped, st.sampled_from(WORKFLOW_TEXTS).flatmap(broken_text))


def assert_positions(message: str) -> None:
    for line in message.split("\n"):
        assert WHERE.search(line), f"an error without file:line:col: {line!r}"


@settings(max_examples=400, deadline=None)
@given(broken_workflows())
def test_a_broken_workflow_is_an_error_with_its_line(text: str) -> None:
    try:
        parse_workflow(text, "broken.yaml", steps=STEPS, templates=TEMPLATES, forms=FORMS)
    except WorkflowLoadError as exc:
        assert exc.problems
        assert all(p.position.line >= 1 for p in exc.problems)
        assert_positions(str(exc))


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.just(yaml.safe_load(CATALOGUE_TEXT))
        .flatmap(broken_tree)
        .map(lambda tree: yaml.safe_dump(tree, sort_keys=False, allow_unicode=True)),
        broken_text(CATALOGUE_TEXT),
    )
)
def test_a_broken_catalogue_is_an_error_with_its_line(tmp_path_factory: Any, text: str) -> None:
    path = Path(tmp_path_factory.mktemp("catalogue")) / "catalogue.yaml"
    path.write_text(text)
    try:
        load_catalogue(path)
    except ConfigError as exc:
        assert WHERE.search(str(exc)), f"an error without file:line:col: {exc}"


def test_an_empty_initial_state_is_an_error_at_its_line() -> None:
    """Found by the fuzzer above: `initial: ''` crashed the graph check with a KeyError."""
    text = WORKFLOW_TEXTS[0].replace("initial: received", "initial: ''")
    try:
        parse_workflow(text, "empty-initial.yaml", steps=STEPS, templates=TEMPLATES, forms=FORMS)
    except WorkflowLoadError as exc:
        assert "initial state '' is not defined" in str(exc)
        assert_positions(str(exc))
    else:
        raise AssertionError("an empty initial state was accepted")
