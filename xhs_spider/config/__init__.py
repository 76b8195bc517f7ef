"""Settings: declared once (``declarations``), Scrapy's that the project
changes (``defaults``), environment overrides and checks."""
