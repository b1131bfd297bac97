"""Empty of tests (they live in the files named for what they test); kept only while
tests/test_official_surface.py imports RawServer from here instead of tests/support/raw_server.py."""

from .support.raw_server import RawServer

__all__ = ["RawServer"]
