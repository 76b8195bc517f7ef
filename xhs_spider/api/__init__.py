"""The Just One API and its vocabulary.

``client`` builds requests, ``envelope`` reads answers, ``codes`` says what
each business code means, ``masking`` keeps the token out of text;
``channels``, ``note_ids``, ``normalize`` and ``counters`` turn what the API
and the users say into the project's terms; ``backoff`` times retries.
"""
