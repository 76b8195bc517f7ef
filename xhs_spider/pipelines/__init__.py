"""The item pipelines (``ITEM_PIPELINES``), in their order: an item checked
against its JSON Schema (``validation``), dropped if this run saw it already
(``dedup``), then journaled and written to the note store (``store``, which
owns the crawl's store session).
"""
