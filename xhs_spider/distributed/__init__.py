"""Distributed mode, and everything that talks to Redis.

Workers on one or many machines share one crawl through Redis (see
docs/distributed.md). :mod:`.connection` builds every Redis client with one
timeout and retry policy; :mod:`.setup` switches a shared crawl
(:func:`~xhs_spider.config.declarations.shared_crawl`) to scrapy-redis's
scheduler and dupefilter; :mod:`.keys` names every Redis key of a crawl under
its ``XHS_CRAWL_ID``; :mod:`.worker` keeps each worker's presence, what it
has in hand, the seeding of the crawl and when to close; :mod:`.scheduler`
and :mod:`.acks` tell it what was taken and done. The shared halves of the
API's limits live here too: :mod:`.pace` (the rate cap, for the rate-limit
middleware) and :mod:`.ledger` (the budget, for the budget middleware).
"""
