"""The project's commands (``COMMANDS_MODULE``), each named after its module:
``crawl`` (with the checks before a crawl, ``preflight`` and ``checks``),
``settings``, ``channels``, ``export`` and ``report``; ``common`` holds what
they share. A module here that defines a ``ScrapyCommand`` becomes a command,
so the helpers are functions only. Commands with a dash in their name are in
``xhs_spider.entry_point_commands``.
"""
