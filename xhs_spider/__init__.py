"""xhs-spider: Xiaohongshu notes through the paid Just One API, with Scrapy.

docs/development.md says what each subpackage holds and in which order they
may import each other (the import layers, kept by tests/test_layers.py).
"""
