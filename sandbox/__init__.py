"""An offline stand-in for the paid Just One API (Xiaohongshu feed, note detail and discovery).

Run it with ``python -m sandbox --port 0``; drive it from tests
and benchmarks with :class:`SandboxProcess`.
"""

from sandbox.process import SandboxProcess

__all__ = ["SandboxProcess"]
