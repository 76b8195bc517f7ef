"""Project settings. Defaults are declared in xhs_spider/config/, applied by the add-on."""

BOT_NAME = "xhs_spider"

SPIDER_MODULES = ["xhs_spider.spiders"]
NEWSPIDER_MODULE = "xhs_spider.spiders"
COMMANDS_MODULE = "xhs_spider.commands"

ADDONS = {"xhs_spider.addon.XhsSpiderAddon": 0}
