"""Commands whose names hold a dash (``crawl-summary``, ``replay-spill``).

Scrapy names a command of ``COMMANDS_MODULE`` after its module, and a
module's name cannot hold a dash: these are registered only as entry points
(``scrapy.commands`` in ``pyproject.toml``), which name them as the docs do.
Kept out of ``xhs_spider.commands``, or ``scrapy -h`` would list each twice
(``crawl-summary`` and ``crawl_summary``).
"""
