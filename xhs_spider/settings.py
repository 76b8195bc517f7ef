"""Project settings. Defaults live in xhs_spider/defaults.py, applied by the add-on."""

BOT_NAME = "xhs_spider"

SPIDER_MODULES = ["xhs_spider.spiders"]
NEWSPIDER_MODULE = "xhs_spider.spiders"
COMMANDS_MODULE = "xhs_spider.commands"

ADDONS = {"xhs_spider.addon.XhsSpiderAddon": 0}

# Scrapy's own defaults worth pinning for reproducible crawls.
ROBOTSTXT_OBEY = False
FEED_EXPORT_ENCODING = "utf-8"
