"""Settings: every project setting declared once (``declarations``), Scrapy's
settings the project changes and its components (``defaults``), environment
overrides (``environment``), the paths a crawl writes checked (``paths``),
and the settings as a crawl sees them, add-ons applied (``effective``), the
one way every command reads them.
"""
