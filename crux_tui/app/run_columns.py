"""Which columns the runs list shows at a given width, and how wide each one is.

The run name takes the width the other columns leave; optional columns are added in
order of importance while the names still fit (up to ``NAME_WANTED`` cells), so a narrow
terminal keeps the names whole and drops cost, model and the like first. Pure: no
Textual imports.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Cells DataTable adds around each column (``cell_padding`` 1 on both sides).
CELL_PADDING = 2
#: Cells kept free for the table's vertical scrollbar (so there is never a horizontal one).
SCROLLBAR = 2
#: The name column never gets narrower than this ...
NAME_MIN = 16
#: ... and optional columns only come in while names up to this long still fit.
NAME_WANTED = 36


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int


#: (key, label, width or None when sized by content, cap) in display order.
ORDER: tuple[tuple[str, str, int | None, int], ...] = (
    ("status", "", 1, 1),
    ("name", "Name", None, 0),
    ("state", "Status", 12, 12),
    ("primitive", "Root", None, 22),
    ("model", "Model", None, 16),
    ("started", "Started", 8, 8),
    ("duration", "Duration", 8, 8),
    ("tokens", "Tokens", 6, 6),
    ("cost", "Cost", 7, 7),
    ("spans", "Spans", 6, 6),
    ("health", "Health", None, 16),
)
REQUIRED = ("status", "name", "started", "duration")
#: Optional columns, most important first.
OPTIONAL = ("state", "health", "tokens", "cost", "spans", "model", "primitive")


def plan_columns(width: int, content: dict[str, int]) -> tuple[Column, ...]:
    """The columns for a table ``width`` cells wide.

    ``content`` is the widest cell per content-sized column (name, primitive, model,
    health) among the rows shown; a content-sized column with nothing to show is left out.
    """
    sized: dict[str, int] = {}
    for key, label, fixed, cap in ORDER:
        if key == "name":
            continue
        if fixed is not None:
            sized[key] = fixed
        elif content.get(key, 0) > 0:
            sized[key] = min(cap, max(len(label), content[key]))
    wanted_name = max(NAME_MIN, min(NAME_WANTED, content.get("name", 0)))
    usable = width - SCROLLBAR

    def name_width(keys: list[str]) -> int:
        others = sum(sized[k] + CELL_PADDING for k in keys if k != "name")
        return usable - others - CELL_PADDING

    chosen = list(REQUIRED)
    for key in OPTIONAL:
        if key in sized and name_width([*chosen, key]) >= wanted_name:
            chosen.append(key)
    name = max(NAME_MIN, name_width(chosen))
    labels = {key: label for key, label, _, _ in ORDER}
    return tuple(
        Column(key, labels[key], name if key == "name" else sized[key])
        for key, *_ in ORDER
        if key in chosen
    )
