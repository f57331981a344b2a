"""The version of gradcore, written once: the package, its metadata and `gradcore --version` read it."""

__version__ = "0.1.0"
