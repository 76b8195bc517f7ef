"""Masking the API token in any text that might quote it."""

from __future__ import annotations

import re

MIN_MASKED_TOKEN_LENGTH = 8
TOKEN_PATTERN = re.compile(r"(token=)[^&\s\"'<>]+", re.IGNORECASE)


def mask_token(text: str, token: str | None = None) -> str:
    """*text* with every ``token=…`` value, and *token* itself, masked.

    The bare token is masked only when long enough to be told apart from
    ordinary text (a one-letter test token would mask every such letter).
    """
    if token and len(token) >= MIN_MASKED_TOKEN_LENGTH:
        text = text.replace(token, "***")
    return TOKEN_PATTERN.sub(r"\1***", text)


def carries_token(text: str, token: str | None = None) -> bool:
    """Whether :func:`mask_token` would change *text*, found without copying it."""
    if token and len(token) >= MIN_MASKED_TOKEN_LENGTH and token in text:
        return True
    return TOKEN_PATTERN.search(text) is not None


def mask_echo(text: str, token: str | None) -> str:
    """*text* the API wrote (a message, a body), with *token* masked at any
    length: the API may echo what it was sent, and a short token is still
    the account's key."""
    if token:
        text = text.replace(token, "***")
    return mask_token(text, token)
