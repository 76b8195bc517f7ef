"""The control endpoints ``/__sandbox__/*`` that tests and benchmarks drive.

``GET stats``, ``POST reset``, ``GET``/``POST config``, ``GET notes`` (which
note ids a feed page holds), ``GET channels``, ``GET discovery`` (the note
ids of every page of a keyword's, topic's or creator's list, where a share
link leads, the creators and the named topics), ``POST grow`` (a creator
publishes new notes), ``GET comments`` (every comment and reply of a note,
and its pages) and ``POST grow-comments`` (a note gains comments). Anything else outside the
API paths is a 404, a known action with the wrong method a 405.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from sandbox.answers import Answer, json_answer, method_not_allowed, not_found
from sandbox.api import SandboxApi
from sandbox.comment_params import note_id
from sandbox.config import ConfigError
from sandbox.endpoints import InvalidParameters
from sandbox.queries import UnknownTarget

logger = logging.getLogger(__name__)

CONTROL_PREFIX = "/__sandbox__/"


class ControlEndpoints:
    """Answers every call that is not an API call, from plain values rather than HTTP objects."""

    def __init__(self, api: SandboxApi) -> None:
        self.api = api

    def answer(self, method: str, path: str, params: dict[str, str], body: bytes) -> Answer:
        if not path.startswith(CONTROL_PREFIX):
            return not_found()
        action = path[len(CONTROL_PREFIX) :]
        handlers: dict[tuple[str, str], Callable[[], Answer]] = {
            ("GET", "stats"): lambda: json_answer(self.api.stats.as_json()),
            ("POST", "reset"): self._reset,
            ("GET", "config"): lambda: json_answer(self.api.config.public_view()),
            ("POST", "config"): lambda: self._configure(body),
            ("GET", "notes"): lambda: self._notes(params),
            ("GET", "channels"): lambda: json_answer(self.api.channels()),
            ("GET", "discovery"): lambda: self._discovery(params),
            ("POST", "grow"): lambda: self._grow(body),
            ("GET", "comments"): lambda: self._comments(params),
            ("POST", "grow-comments"): lambda: self._grow_comments(body),
        }
        handler = handlers.get((method, action))
        if handler is not None:
            return handler()
        if any(known_action == action for _, known_action in handlers):
            return method_not_allowed()
        return not_found()

    def _reset(self) -> Answer:
        self.api.reset()
        logger.info("counters reset")
        return json_answer({"ok": True})

    def _configure(self, body: bytes) -> Answer:
        try:
            changes = json.loads(body or b"{}")
            if not isinstance(changes, dict):
                raise ConfigError("the body must be a JSON object")
            self.api.configure(changes)
        except (ValueError, ConfigError) as error:
            return json_answer({"ok": False, "error": str(error)}, 400)
        logger.info("config updated: %s", ", ".join(sorted(changes)))
        return json_answer(self.api.config.public_view())

    def _notes(self, params: dict[str, str]) -> Answer:
        try:
            return json_answer(self.api.notes_preview(params))
        except InvalidParameters as error:
            return json_answer({"ok": False, "error": str(error)}, 400)

    def _discovery(self, params: dict[str, str]) -> Answer:
        try:
            truth = self.api.discovery.truth(params.get("kind", ""), params.get("value", ""), params)
        except InvalidParameters as error:
            return json_answer({"ok": False, "error": str(error)}, 400)
        except UnknownTarget as error:
            return json_answer({"ok": False, "error": str(error)}, 404)
        return json_answer(truth)

    def _grow(self, body: bytes) -> Answer:
        """``{"userId": "<a creator>", "count": N}``: the creator publishes N notes."""
        try:
            target, count = growth_order(body, "userId")
            grown = self.api.discovery.grow(target, count)
        except ValueError as error:
            return json_answer({"ok": False, "error": str(error)}, 400)
        except UnknownTarget as error:
            return json_answer({"ok": False, "error": str(error)}, 404)
        logger.info("creator %s published %d notes", grown["userId"], count)
        return json_answer(grown)

    def _comments(self, params: dict[str, str]) -> Answer:
        try:
            return json_answer(self.api.comments.truth(params))
        except InvalidParameters as error:
            return json_answer({"ok": False, "error": str(error)}, 400)

    def _grow_comments(self, body: bytes) -> Answer:
        """``{"noteId": "<a note>", "count": N}``: the note gains N comments."""
        try:
            target, count = growth_order(body, "noteId")
            grown = self.api.comments.grow(note_id(target), count)
        except ValueError as error:  # InvalidParameters too
            return json_answer({"ok": False, "error": str(error)}, 400)
        logger.info("note %s gained %d comments", grown["noteId"], count)
        return json_answer(grown)


def growth_order(body: bytes, target_key: str) -> tuple[str, int]:
    """The target and count of a ``grow`` or ``grow-comments`` body; ValueError when it has none."""
    order = json.loads(body or b"{}")
    if not isinstance(order, dict) or not isinstance(order.get(target_key), str):
        raise ValueError("the body must be a JSON object with a %s" % target_key)
    count = order.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int):
        raise ValueError("count must be an integer")
    return order[target_key], count
