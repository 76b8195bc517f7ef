"""The read side of the store: the dataset as analysts want it.

``scrapy export`` and ``scrapy report`` read the store through this package,
never through the crawl's write path (``xhs_spider.store``):

* :mod:`.columns`: each collection's columns, in a fixed order taken from the
  item schemas, with their types;
* :mod:`.query`: what to read (collection, window, channels, statuses),
  parsed from the command line;
* :mod:`.sqlite_reader`, :mod:`.mongo_reader`: records streamed from either
  store in chunks, filtered in the query where the store can;
* :mod:`.writers`, :mod:`.parquet_writer`: one writer per file format, each
  writing row by row (Parquet in record batches).
"""
