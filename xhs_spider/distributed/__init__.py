"""Distributed mode: workers on one or many machines share one crawl through Redis.

See docs/distributed.md. :mod:`.setup` switches a crawl to scrapy-redis's
scheduler and dupefilter when ``REDIS_URL`` is set; :mod:`.keys` names every
Redis key of a crawl under its ``XHS_CRAWL_ID``; :mod:`.worker` keeps each
worker's presence, what it has in hand, the seeding of the crawl and when
to close; :mod:`.scheduler` and :mod:`.acks` tell it what was taken and done.
"""
