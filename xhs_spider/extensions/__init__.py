"""The crawl's extensions (``EXTENSIONS``): what watches the whole crawl.

Which notes need a paid detail call (``freshness``, reading the store through
the store pipeline), how the run ended and its summary, progress lines, item
counts, the final stats as a file, and the token masked in every log record.
They sit above the pipelines and below the middlewares that ask them.
"""
