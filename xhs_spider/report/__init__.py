"""``scrapy report``: what the crawl found, as one self-contained HTML file.

:mod:`.figures` computes the numbers from the dataset (:mod:`xhs_spider.dataset`,
either store); :mod:`.charts` draws them with matplotlib as inline SVG;
:mod:`.page` puts tables and charts in one HTML file with inline CSS and no
script, which opens without a network.
"""
