"""The Just One API and its vocabulary.

``client`` builds requests, ``envelope`` reads answers, ``codes`` says what
each business code means, ``masking`` keeps the token out of text;
``channels``, ``note_ids`` and ``normalize`` turn what the API and the users
say into the project's terms (counters such as "1.2万" included). For the ways
in beyond the feed: ``sources`` checks what users name as a source,
``discovery`` reads a search, creator or topic answer whatever its shape, and
``paging`` decides when a source stops paging.
"""
