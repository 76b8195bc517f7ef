"""A run as people and the store see it: its ids, its summary, the runs of one
crawl added up, readable durations and rates (how a run ends is in
:mod:`xhs_spider.outcome`)."""
