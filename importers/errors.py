"""Errors raised while reading and cleaning import files.

Two families: ``ReaderError`` (the file as a whole cannot be read: wrong format, encoding, no
header, missing columns — the import stops) and ``CellError`` (one value in one row is wrong — the
row is reported and the import goes on).
"""

from __future__ import annotations


class ReaderError(Exception):
    """The file cannot be read as a table. The message is meant for the officer who uploaded it."""


class EmptyFileError(ReaderError):
    pass


class UnsupportedFormatError(ReaderError):
    pass


class EncodingError(ReaderError):
    pass


class CorruptFileError(ReaderError):
    pass


class HeaderNotFoundError(ReaderError):
    pass


class SheetNotFoundError(ReaderError):
    pass


class MissingColumnsError(ReaderError):
    def __init__(self, message: str, *, required=(), found=()):
        super().__init__(message)
        self.required = list(required)
        self.found = list(found)


class CellError(ValueError):
    """One bad value. ``code`` lets callers branch without parsing messages.

    ``review=True`` marks values that are probably right but fail a check a person should
    confirm (a USCC with a bad check digit): the row goes to review instead of being rejected.
    ``value`` then carries the cleaned value so review can show and accept it.
    """

    def __init__(self, field: str, message: str, *, code: str = "invalid", value=None, review: bool = False):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.code = code
        self.value = value
        self.review = review

    def __repr__(self):
        return f"CellError({self.field!r}, {self.message!r}, code={self.code!r})"


class LimitExceeded(ReaderError):
    """The file is larger than a reader limit (columns, cells, inflated size); refused before parsing."""


class RowProblem(Exception):
    """A row the importer cannot apply; ``code`` is stored with the row error (out_of_scope, required…)."""

    def __init__(self, field, message, code="invalid"):
        super().__init__(message)
        self.field, self.message, self.code = field, message, code


class NeedsReview(Exception):
    """A row a person must confirm (a similar or shared name, a bad check digit)."""

    def __init__(self, reason, message, candidate=None, score=None):
        super().__init__(message)
        self.reason, self.message, self.candidate, self.score = reason, message, candidate, score


PENDING = "pending"


class UnknownName(NeedsReview):
    """A name-only row whose name matches no firm: held as a pending row (importers.models.ImportPendingRow),
    not rejected. A NeedsReview, so every applier that holds rows for review holds these too."""

    def __init__(self, name):
        super().__init__(PENDING, f"No firm is named “{name}” (nor has it as a former name or alias); "
                                  f"kept as a pending row until an officer attaches it to a firm or creates the firm.")


class JobTimedOut(Exception):
    """The job ran past IMPORT_TIMEOUT_SECONDS; it stops and ends failed (nothing written)."""
