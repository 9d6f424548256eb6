"""The project's one version: pyproject.toml's, as the installed distribution reports it (CITATION.cff and the
CHANGELOG's latest release must say the same; tests/test_docs.py checks)."""

from __future__ import annotations

from importlib.metadata import version

DISTRIBUTION = "regional-innovation-kr"
__version__ = version(DISTRIBUTION)


def version_line() -> str:
    """How commands name what ran, e.g. `regional-innovation-kr 0.1.0` (the first line of make run's summary)."""
    return f"{DISTRIBUTION} {__version__}"
