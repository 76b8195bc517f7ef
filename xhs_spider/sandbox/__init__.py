"""An offline stand-in for the paid Just One API (Xiaohongshu feed and note detail).

Run it with ``python -m xhs_spider.sandbox --port 0``; drive it from tests
and benchmarks with :class:`SandboxProcess`.
"""

from xhs_spider.sandbox.process import SandboxProcess

__all__ = ["SandboxProcess"]
