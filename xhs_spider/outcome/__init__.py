"""How a run ends, in one place.

``reasons`` names every finish reason, its exit status and what to check
(names and numbers only, importing nothing of the project: the API's codes
name their reasons from it); ``verdict`` judges a run the engine calls
``finished`` that did nothing of its job; ``extension`` holds the
``RunOutcome`` extension that decides the ``finish_reason`` once, and the
helpers a component ends the crawl early with (``close_crawl``,
``kept_for_resume``); ``summary`` is what the run did and what its money
bought, concluded once with the outcome; ``crawl_summary`` adds up the runs
of one crawl.
"""
