"""Signals of the project, sent through ``crawler.signals``."""

#: A note's detail answered 201 (no content): billed, nothing to store but
#: the fact, so that it is not paid for again within XHS_DETAIL_TTL.
#: Arguments: ``note_id`` (str), ``at`` (ISO-8601 UTC str).
note_unavailable = object()
