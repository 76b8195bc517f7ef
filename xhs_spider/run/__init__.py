"""A run as people and the store see it: its ids and the crawl's id
(``identity``), sets that remember a recent window (``recent``), durations
and rates as people read them (``readable``). How a run ends, and its
summary, is in :mod:`xhs_spider.outcome`."""
