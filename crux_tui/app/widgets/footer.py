"""The footer: the screen's most important keys first, ``?`` always in sight.

Textual's footer lists the shown bindings in the order the focus chain yields them and
clips what does not fit. This one orders them by the screen's ``footer_order()`` (binding
ids, most important first: ``FOOTER_ORDER``, or what the screen shows makes important; the
rest keep their order after them), keeps ``?`` (the help that lists every key) docked on the
right next to the palette key, and goes compact on narrow terminals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalGroup
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from textual.screen import Screen

#: The binding that opens ``?`` help: never clipped.
HELP_BINDING_ID = "app.help"
#: Below this width the keys lose their padding.
COMPACT_WIDTH = 120


class CruxFooter(Footer):
    """Footer with ordered keys and a help key that is always visible."""

    DEFAULT_CSS = """
    CruxFooter > #footer-always {
        dock: right;
        width: auto;
        padding-left: 1;
        height: 1;
        layout: horizontal;
        background: $footer-background;
    }
    CruxFooter > #footer-always > FooterKey.-command-palette {
        dock: none;
    }
    """

    _laid_out_for = 0
    #: what the keys were composed from (``_keys_signature``): ``None`` before the first
    _composed: tuple[object, ...] | None = None

    def on_resize(self) -> None:
        width = self.app.size.width
        self.compact = width < COMPACT_WIDTH
        if width != self._laid_out_for:
            self.refresh(recompose=True)  # keys that no longer fit are left out

    def bindings_changed(self, screen: Screen[object]) -> None:
        """Compose the keys again only when what they show changed: a screen refreshes its
        bindings often (a focus change, a relayout) with the same keys, and composing them
        anew costs each time (a dozen widgets mounted and styled on the UI thread)."""
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        """Several changes before one refresh compose once, and not at all when the keys
        end up as they were."""
        if self.is_attached and self._keys_signature() != self._composed:
            await self.recompose()

    def _keys_signature(self) -> tuple[object, ...]:
        """What the composed keys depend on: the width, the shown bindings in footer order
        (key, description, whether enabled, tooltip) and the palette key."""
        shown = tuple(
            (b.id, b.key, b.action, b.description, enabled, tooltip)
            for b, enabled, tooltip in self.shown_bindings()
        )
        palette = None
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            found = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
            if found is not None:
                _node, binding, enabled, _tooltip = found
                palette = (binding.key, binding.description, enabled, binding.tooltip)
        return (self.app.size.width, shown, palette)

    def key_width(self, binding: Binding) -> int:
        """Cells one key takes (``esc Back``, padded as the footer pads it)."""
        key, description = self.app.get_key_display(binding), binding.description
        padding = 2 if self.compact else 3
        return len(key) + len(description) + padding

    def shown_bindings(self) -> list[tuple[Binding, bool, str]]:
        """(binding, enabled, tooltip) of the shown keys in footer order."""
        seen: dict[str, tuple[Binding, bool, str]] = {}
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in seen:
                seen[binding.action] = (binding, enabled, tooltip)
        footer_order = getattr(self.screen, "footer_order", None)
        ids = footer_order() if footer_order is not None else ()
        order = {bid: i for i, bid in enumerate(ids)}
        return sorted(seen.values(), key=lambda item: order.get(item[0].id, len(order)))

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        self._composed = self._keys_signature()
        self._laid_out_for = width = self.app.size.width
        shown = self.shown_bindings()
        always: list[FooterKey] = []
        # what stays on the right: `` ? Keys ▏^p palette `` (group padding, border, padding)
        room = width - 3 - sum(self.key_width(b) for b, *_ in shown if b.id == HELP_BINDING_ID)
        palette = self._palette_key()
        if palette is not None:
            room -= len(palette.key_display) + len(palette.description) + 3
        for binding, enabled, tooltip in shown:
            if binding.id != HELP_BINDING_ID:
                room -= self.key_width(binding)
                if room < 0:
                    continue  # a key cut in half helps nobody: ? lists them all
            key = FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
            if binding.id == HELP_BINDING_ID:
                always.append(key)
            else:
                yield key
        if palette is not None:
            always.append(palette)
        if always:
            yield HorizontalGroup(*always, id="footer-always")

    def _palette_key(self) -> FooterKey | None:
        if not (self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE):
            return None
        try:
            _node, binding, enabled, _tooltip = self.screen.active_bindings[
                self.app.COMMAND_PALETTE_BINDING
            ]
        except KeyError:
            return None
        return FooterKey(
            binding.key,
            self.app.get_key_display(binding),
            binding.description,
            binding.action,
            classes="-command-palette",
            disabled=not enabled,
            tooltip=binding.tooltip or binding.description,
        )
