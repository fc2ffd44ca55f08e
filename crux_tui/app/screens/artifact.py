"""Artifact viewer: stacks, JSON trees, text, messages and memory diffs."""

from __future__ import annotations

import subprocess
from subprocess import DEVNULL
from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from crux_tui.app import format as fmt
from crux_tui.app import theme
from crux_tui.app.commands import ArtifactCommands
from crux_tui.app.evidence import Evidence, evidence_of, stack_text
from crux_tui.app.screens.base import CruxScreen
from crux_tui.app.stack import Frame, editor_command, editor_from_env, resolve_source, source_roots
from crux_tui.app.widgets.detail_pane import (
    Subject,
    artifact_text,
    subject_label,
    truncation_note,
)
from crux_tui.app.widgets.footer import CruxFooter
from crux_tui.app.widgets.json_tree import JsonTree
from crux_tui.app.widgets.stack_view import StackView
from crux_tui.contract.models import ArtifactSummary
from crux_tui.contract.tolerant import dumps
from crux_tui.sanitize import ClipKind, clean

#: Width under which before/after are stacked instead of side by side.
SIDE_BY_SIDE_WIDTH = 100


MESSAGE_LIST_KEYS = ("messages", "allMessages", "recent", "inputMessages", "existingResponses")


def stack_text_of(artifact: ArtifactSummary) -> str:
    return stack_text(artifact.preview)


def error_summary(
    artifact: ArtifactSummary, subject: Subject | None, evidence: Evidence | None = None
) -> dict[str, Any]:
    """name / message / category from the span error (``inspection.errors`` when the backend
    sent it, else the span's ``error``), the artifact's attributes and preview."""
    summary: dict[str, Any] = {}
    sources: list[dict[str, Any]] = []
    if evidence is None and subject is not None:
        evidence = evidence_of(subject)
    if evidence is not None:
        sources.append(evidence.span_error)
    sources.append(artifact.attributes or {})
    if isinstance(artifact.preview, dict):
        sources.append(artifact.preview)
    for source in sources:
        for key in ("name", "message", "category", "code", "retryable", "statusCode", "phase"):
            if key not in summary and source.get(key) not in (None, ""):
                summary[key] = source[key]
    stack = stack_text_of(artifact)
    if "message" not in summary and stack:
        first = clean(stack.strip().splitlines()[0]) if stack.strip() else ""
        if first:
            name, sep, message = first.partition(": ")
            if sep and " " not in name:
                summary.setdefault("name", name)
                summary["message"] = message
            else:
                summary["message"] = first
    return summary


def format_content(content: Any) -> Text:
    """A message ``content``: a string or a list of parts (text, tool calls, tool results…)."""
    if isinstance(content, str):
        return Text(clean(content, multiline=True))
    text = Text()
    if isinstance(content, list):
        for index, part in enumerate(content):
            if index:
                text.append("\n")
            if isinstance(part, dict):
                kind = str(part.get("type", ""))
                if kind == "text" or ("text" in part and not kind):
                    text.append(clean(part.get("text", ""), multiline=True))
                elif kind in ("tool-call", "tool_call", "tool-use"):
                    text.append(
                        f"→ {clean(part.get('toolName') or part.get('name') or 'tool')}",
                        style=theme.TOOL_CALL,
                    )
                    args = part.get("args", part.get("input"))
                    if args is not None:
                        text.append(" " + clean(dumps(args)))
                elif kind in ("tool-result", "tool_result"):
                    text.append(
                        f"← {clean(part.get('toolName') or 'tool')} result", style=theme.TOOL_RESULT
                    )
                    result = part.get("result", part.get("output"))
                    if result is not None:
                        text.append(" " + clean(dumps(result)))
                else:
                    text.append(clean(dumps(part)), style="dim")
            else:
                text.append(clean(part, multiline=True))
        return text
    if content is None:
        return Text("(empty)", style="dim")
    return Text(clean(dumps(content)))


def messages_text(messages: list[Any]) -> Text:
    text = Text()
    for index, message in enumerate(messages):
        if index:
            text.append("\n")
        if isinstance(message, dict):
            role = clean(message.get("role") or "message")
            style = theme.ROLE_STYLES.get(role, "bold")
            text.append(f"{role}: ", style=style)
            text.append_text(format_content(message.get("content", message.get("text"))))
        else:
            text.append_text(format_content(message))
        text.append("\n")
    return text


def messages_parts(
    artifact: ArtifactSummary,
) -> tuple[dict[str, str], list[tuple[str, list[Any]]], dict[str, Any]]:
    """(header fields, [(section, messages)], other fields) of a ``messages`` artifact."""
    preview = artifact.preview
    attrs = artifact.attributes or {}
    header: dict[str, str] = {}
    for key in ("source", "phase"):
        value = attrs.get(key)
        if value in (None, "") and isinstance(preview, dict):
            value = preview.get(key)
        if value not in (None, ""):
            header[key] = clean(value)
    sections: list[tuple[str, list[Any]]] = []
    other: dict[str, Any] = {}
    if isinstance(preview, list):
        sections.append(("messages", preview))
    elif isinstance(preview, dict):
        for key, value in preview.items():
            if key in ("source", "phase"):
                continue
            if key in MESSAGE_LIST_KEYS and isinstance(value, list):
                sections.append((key, value))
            elif key == "inputPrompt" and isinstance(value, str):
                sections.append((key, [{"role": "user", "content": value}]))
            else:
                other[key] = value
    elif preview is not None:
        sections.append(("messages", [preview]))
    return header, sections, other


def pretty(value: Any) -> Text:
    if isinstance(value, str):
        return Text(clean(value, multiline=True))
    return Text(clean(dumps(value, indent=2), multiline=True))


def diff_sides(preview: Any) -> tuple[Any, Any] | None:
    if not isinstance(preview, dict):
        return None
    for before_key, after_key in (("before", "after"), ("old", "new"), ("previous", "next")):
        if before_key in preview or after_key in preview:
            return preview.get(before_key), preview.get(after_key)
    return None


class ArtifactScreen(CruxScreen):
    """Full-screen view of one artifact; ``escape`` goes back, ``y`` copies the content."""

    HELP_TITLE = "Artifact"
    COMMANDS = {ArtifactCommands}

    #: footer keys, most important first (see ``CruxFooter``)
    FOOTER_ORDER = ("artifact.back", "artifact.copy")

    BINDINGS = [
        Binding("escape", "back", "Back", id="artifact.back"),
        Binding("y", "copy", "Copy", id="artifact.copy"),
        Binding("plus", "expand_all", "Expand all", id="artifact.expand-all", show=False),
        Binding("minus", "collapse_all", "Collapse all", id="artifact.collapse-all", show=False),
    ]

    def __init__(
        self,
        artifact: ArtifactSummary,
        subject: Subject | None = None,
        *,
        evidence: Evidence | None = None,
    ) -> None:
        super().__init__()
        self.artifact = artifact
        self.subject = subject
        #: the subject's inspection (or the same from its artifacts), when the caller has it
        self.evidence = evidence
        #: editors run from this viewer that have returned
        self.editor_runs = 0

    # ------------------------------------------------------------------ content

    @property
    def kind(self) -> str:
        return self.artifact.kind or ""

    def copy_payload(self) -> tuple[str, ClipKind]:
        """The artifact's content as copied (cleaned by ``copy_text``) and its kind."""
        if self.kind == "error.stack":
            return stack_text_of(self.artifact), "text"
        preview = self.artifact.preview
        if isinstance(preview, str):
            return preview, "text"
        return dumps(preview, indent=2), "json"

    def header(self) -> Text:
        text = Text()
        text.append_text(artifact_text(self.artifact))
        if self.subject is not None:
            text.append(f"   from {subject_label(self.subject)}", style="dim")
            if self.subject.spanId:
                text.append(f" ({clean(self.subject.spanId)})", style="dim")
        if self.artifact.artifactId:
            text.append(f"\nid {clean(self.artifact.artifactId)}", style="dim")
        if self.artifact.uri:
            text.append(f" · uri {clean(self.artifact.uri)}", style="dim")
        note = truncation_note(self.artifact)
        if note:
            text.append(f"\n⚠ {note} — the full content is not available here", style=theme.NOTE)
        return text

    def compose(self) -> ComposeResult:
        yield Static(self.header(), id="artifact-header", classes="screen-header", markup=False)
        with Vertical(id="artifact-body"):
            yield from self._body()
        yield CruxFooter()

    def _body(self) -> ComposeResult:
        preview = self.artifact.preview
        kind = self.kind
        if preview is None:
            yield Static(
                Text("The producer sent no preview for this artifact.", style="dim italic"),
                id="artifact-empty",
            )
            return
        if kind == "error.stack":
            yield from self._error_stack()
        elif kind == "messages":
            yield from self._messages()
        elif kind == "memory.diff" and diff_sides(preview) is not None:
            yield from self._memory_diff()
        elif isinstance(preview, dict | list):
            if kind == "error.raw":
                yield Static(self._summary_text(), id="artifact-summary", markup=False)
            yield JsonTree(
                preview, label=clean(kind or "preview"), expand_depth=3, id="artifact-json"
            )
        else:
            with VerticalScroll(id="artifact-scroll"):
                yield Static(pretty(preview), id="artifact-text", markup=False)

    def _summary_text(self) -> Text:
        summary = error_summary(self.artifact, self.subject, self.evidence)
        text = Text()
        text.append(clean(summary.get("name") or "Error"), style=fmt.ERROR_STYLE)
        if summary.get("message"):
            text.append(": ")
            text.append(clean(summary.get("message")), style=fmt.ERROR_STYLE)
        extras = [
            f"{key} {fmt.value_text(summary[key])}"
            for key in ("category", "code", "statusCode", "retryable", "phase")
            if key in summary
        ]
        if extras:
            text.append("\n" + " · ".join(extras), style="dim")
        return text

    def _error_stack(self) -> ComposeResult:
        yield Static(self._summary_text(), id="artifact-summary", markup=False)
        view = StackView(stack_text_of(self.artifact), id="artifact-stack")
        hint = Text("enter/o opens a frame in $EDITOR", style="dim")
        if view.library_frames:
            hint.append(f" · f folds or shows {view.library_frames} library frames", style="dim")
        yield Static(hint, id="artifact-stack-hint", markup=False)
        yield view

    def _messages(self) -> ComposeResult:
        header, sections, other = messages_parts(self.artifact)
        text = Text()
        for key in ("source", "phase"):
            text.append(f"{key}: ", style="dim")
            text.append(header.get(key, "—"), style="bold")
            text.append("   ")
        count = sum(len(messages) for _, messages in sections)
        text.append(f"{count} message{'s' if count != 1 else ''}", style="dim")
        yield Static(text, id="artifact-messages-header", markup=False)
        with VerticalScroll(id="artifact-scroll"):
            for name, messages in sections:
                yield Static(Text(f"{clean(name)} ({len(messages)})", style="bold underline"))
                yield Static(messages_text(messages), classes="messages", markup=False)
            if other:
                yield JsonTree(other, label="other fields", expand_depth=1, id="artifact-json")

    def _memory_diff(self) -> ComposeResult:
        sides = diff_sides(self.artifact.preview)
        assert sides is not None
        before, after = sides
        rest = {
            k: v
            for k, v in (self.artifact.preview or {}).items()
            if k not in ("before", "after", "old", "new", "previous", "next")
        }
        if rest:
            yield Static(pretty(rest), id="artifact-diff-meta", markup=False)
        with Horizontal(id="artifact-diff"):
            with VerticalScroll(classes="diff-side", id="diff-before"):
                yield Static(Text("before", style=theme.DIFF_BEFORE))
                yield Static(pretty(before), markup=False)
            with VerticalScroll(classes="diff-side", id="diff-after"):
                yield Static(Text("after", style=theme.DIFF_AFTER))
                yield Static(pretty(after), markup=False)

    def on_mount(self) -> None:
        self._apply_width(self.app.size.width)
        scroll = self.query("#artifact-stack, #artifact-scroll, #artifact-json")
        if scroll:
            scroll.first().focus()

    def on_resize(self, event: Any) -> None:
        self._apply_width(event.size.width)

    def _apply_width(self, width: int) -> None:
        for diff in self.query("#artifact-diff"):
            diff.set_class(width < SIDE_BY_SIDE_WIDTH, "-stacked")

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        self.app.pop_screen()

    # ------------------------------------------------------------------ frame -> editor

    @on(StackView.FrameChosen)
    def _frame_chosen(self, event: StackView.FrameChosen) -> None:
        frame = event.frame
        if frame is None:
            self.notify(
                "Move to a stack frame (a line with a file and a line number)",
                timeout=3,
                markup=False,
            )
            return
        self.open_in_editor(frame)

    def open_in_editor(self, frame: Frame) -> None:
        """Open the frame's file at its line in ``$VISUAL`` / ``$EDITOR`` when the file is
        under the current directory or a ``--source-root``; say where it looked otherwise."""
        roots = source_roots(self.app.source_roots)
        found, looked = resolve_source(frame.path, roots)
        if found is None:
            where = ", ".join(clean(str(p)) for p in looked[:2]) or clean(frame.path)
            self.notify(
                f"Source not found: looked for {where} — run crux-tui in your project "
                "or pass --source-root DIR",
                severity="warning",
                timeout=8,
                markup=False,
            )
            return
        editor = editor_from_env()
        if not editor:
            self.notify(
                f"Set $VISUAL or $EDITOR to open {clean(str(found))}:{frame.line}",
                severity="warning",
                markup=False,
            )
            return
        try:
            argv = editor_command(editor, found, frame.line, frame.column)
        except ValueError as error:
            self.notify(
                f"Cannot use $EDITOR: {clean(str(error))}", severity="warning", markup=False
            )
            return
        try:
            with self.app.suspend():  # the editor gets the terminal; we come back here
                problem = run_editor(argv, interactive=True)
        except SuspendNotSupported:  # headless (tests): no terminal to hand over
            self._run_editor_headless(argv)
            return
        self._editor_done(argv, problem)

    @work(thread=True, exclusive=True, group="editor", exit_on_error=False)
    def _run_editor_headless(self, argv: list[str]) -> None:
        problem = run_editor(argv, interactive=False)
        self.app.call_from_thread(self._editor_done, argv, problem)

    def _editor_done(self, argv: list[str], problem: str) -> None:
        self.editor_runs += 1
        if problem:
            self.notify(problem, severity="warning", timeout=8, markup=False)

    def action_copy(self) -> None:
        what = (
            "stack" if self.kind == "error.stack" else f"{clean(self.kind or 'artifact')} content"
        )
        payload, kind = self.copy_payload()
        self.app.copy_text(payload, what, kind=kind)

    def action_expand_all(self) -> None:
        for tree in self.query(JsonTree):
            tree.action_expand_all()

    def action_collapse_all(self) -> None:
        for tree in self.query(JsonTree):
            tree.action_collapse_all()

    def plain_text(self) -> str:
        """What the viewer shows, as plain text (tests)."""
        parts: list[str] = []
        for widget in self.query(Static):
            parts.append(_static_plain(widget))
        for tree in self.query(JsonTree):
            parts.extend(tree.text_lines())
        for view in self.query(StackView):
            parts.extend(view.plain_lines())
        return "\n".join(parts)


def run_editor(argv: list[str], *, interactive: bool) -> str:
    """Run the editor to its end; "" when it went well, else what went wrong (one line).
    Not ``interactive``: no terminal is handed over (standard streams closed)."""
    quiet: dict[str, Any] = (
        {} if interactive else {"stdin": DEVNULL, "stdout": DEVNULL, "stderr": DEVNULL}
    )
    try:
        code = subprocess.run(argv, check=False, **quiet).returncode
    except OSError as error:
        return f"Cannot run {clean(argv[0])}: {clean(error.strerror or str(error))}"
    return f"{clean(argv[0])} exited with status {code}" if code else ""


def _static_plain(widget: Widget) -> str:
    content = getattr(widget, "content", None)
    if isinstance(content, Text):
        return content.plain
    if isinstance(content, Syntax):
        return content.code
    if isinstance(content, str):
        return content
    return ""


def format_error_line(summary: dict[str, Any]) -> str:
    """``Name: message`` (used by tests and the copy menu)."""
    name = clean(summary.get("name") or "Error")
    message = clean(summary.get("message") or "")
    return f"{name}: {message}" if message else name


__all__ = ["ArtifactScreen", "fmt"]
