"""A workflow's state machine drawn as SVG on the server: the admin page needs no script or CDN.

States are laid out in columns by their distance from the initial state (breadth first), so
the picture reads left to right in the order a ticket moves; each transition is an arrow
labelled with its name, curved when it goes back to an earlier column. Colours mark who a
state waits on and how a final state ends; the text says the same for those who cannot see
colour.
"""

from __future__ import annotations

from collections import deque

from markupsafe import Markup, escape

from ticketbridge.workflow.definitions import State, Workflow

BOX_WIDTH, BOX_HEIGHT = 170, 46
COLUMN_GAP, ROW_GAP, MARGIN = 90, 40, 20
FILL = {"staff": "#fde2e2", "customer": "#fff1cc", "system": "#e3ecf7"}
FINAL_FILL = {"completed": "#dff3e3", "rejected": "#f6d5d5", "cancelled": "#e6e6e6"}


def _columns(workflow: Workflow) -> dict[str, int]:
    column = {workflow.initial: 0}
    queue = deque([workflow.initial])
    while queue:
        state = queue.popleft()
        for transition in workflow.transitions_from(state):
            if transition.target not in column:
                column[transition.target] = column[state] + 1
                queue.append(transition.target)
    last = max(column.values(), default=0)
    for name in workflow.states:
        column.setdefault(name, last + 1)
    return column


def _detail(state: State) -> str:
    return f"ends {state.outcome}" if state.outcome else f"waits on {state.waits_on}"


def render_svg(workflow: Workflow) -> Markup:
    column = _columns(workflow)
    rows: dict[int, int] = {}
    place: dict[str, tuple[int, int]] = {}
    for name in workflow.states:
        index = column[name]
        row = rows.get(index, 0)
        rows[index] = row + 1
        place[name] = (
            MARGIN + index * (BOX_WIDTH + COLUMN_GAP),
            MARGIN + row * (BOX_HEIGHT + ROW_GAP) + 20,
        )
    width = MARGIN * 2 + (max(column.values()) + 1) * (BOX_WIDTH + COLUMN_GAP)
    height = MARGIN * 2 + max(rows.values()) * (BOX_HEIGHT + ROW_GAP) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="graph-title">',
        f'<title id="graph-title">State machine of {escape(workflow.name)}</title>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" '
        'fill="#33404d"/></marker></defs>',
    ]
    for index, transition in enumerate(workflow.transitions):
        sx, sy = place[transition.source]
        tx, ty = place[transition.target]
        x1: float = sx + BOX_WIDTH
        y1: float = sy + BOX_HEIGHT / 2
        x2: float = tx
        y2: float = ty + BOX_HEIGHT / 2
        if tx <= sx:
            x1, x2 = sx + BOX_WIDTH / 2, tx + BOX_WIDTH / 2
            y1, y2 = float(sy), float(ty)
            lift = 30 + 12 * (index % 3)
            path = f"M{x1} {y1} C{x1} {y1 - lift} {x2} {y2 - lift} {x2} {y2}"
            label_x, label_y = (x1 + x2) / 2, min(y1, y2) - lift + 8
        else:
            path = f"M{x1} {y1} L{x2} {y2}"
            label_x, label_y = (x1 + x2) / 2, (y1 + y2) / 2 - 4
        parts.append(
            f'<path d="{path}" fill="none" stroke="#33404d" stroke-width="1.5" '
            'marker-end="url(#arrow)"/>'
        )
        parts.append(
            f'<text x="{label_x:.0f}" y="{label_y:.0f}" font-size="11" text-anchor="middle" '
            f'fill="#1b1f24">{escape(transition.name)}</text>'
        )
    for name, (x, y) in place.items():
        state = workflow.states[name]
        fill = (
            FINAL_FILL.get(str(state.outcome), "#eee")
            if state.outcome
            else FILL[str(state.waits_on)]
        )
        border = 3 if name == workflow.initial else 1.5
        parts.append(
            f'<rect x="{x}" y="{y}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="8" '
            f'fill="{fill}" stroke="#33404d" stroke-width="{border}"/>'
        )
        parts.append(
            f'<text x="{x + BOX_WIDTH / 2:.0f}" y="{y + 19}" font-size="13" font-weight="bold" '
            f'text-anchor="middle" fill="#1b1f24">{escape(name)}</text>'
        )
        parts.append(
            f'<text x="{x + BOX_WIDTH / 2:.0f}" y="{y + 36}" font-size="11" '
            f'text-anchor="middle" fill="#1b1f24">{escape(_detail(state))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
