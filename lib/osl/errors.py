"""The library's own exception types.

Every user mistake (bad input table, missing data, impossible fit) raises a subclass of
:class:`OSLError` with a message that says what to fix. Catch ``OSLError`` to handle all of them.
"""
from __future__ import annotations


class OSLError(Exception):
    """Base class of every error raised on purpose by ``osl``."""


class DataError(OSLError):
    """A problem with obtaining or reading a data file."""


class DataUnavailableError(DataError):
    """A data file is neither cached, nor in the mirror folder, nor downloadable."""


class ChecksumError(DataError):
    """A fetched file does not match its pinned SHA-256; it was discarded."""


class SchemaError(DataError, ValueError):
    """A table lacks required columns or has an unusable structure."""


class ScoreError(DataError, ValueError):
    """Scores are non-numeric or outside their stated range."""


class DuplicateModelError(DataError, ValueError):
    """The same model appears in more than one row."""


class FitError(OSLError, ValueError):
    """A model cannot be fitted with the data given (too few rows, constant target, ...)."""


class NotFittedError(OSLError, RuntimeError):
    """A fitted-object method was called before ``fit``."""


class ArgumentError(OSLError, ValueError, TypeError):
    """An argument of a public function has the wrong type or an impossible value."""
