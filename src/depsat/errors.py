"""One error hierarchy. Every error names its culprit (a file, URL or requirement) as data."""

from __future__ import annotations


class DepsatError(Exception):
    """Base of every error depsat raises on purpose.

    `culprit` is the thing the user must look at: a requirement string, a file path, a URL.
    The CLI prints `str(error)` as one line and exits with status 2.
    """

    def __init__(self, message: str, culprit: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.culprit = culprit

    def __str__(self) -> str:
        if self.culprit and self.culprit not in self.message:
            return f"{self.culprit}: {self.message}"
        return self.message


class InvalidRequirementError(DepsatError):
    """A requirement string that PEP 508 rejects."""


class InvalidVersionError(DepsatError):
    """A version string that PEP 440 rejects, where a version is required."""


class UniverseFileError(DepsatError):
    """A universe file (or packse scenario) that cannot be read."""


class ConfigurationError(DepsatError):
    """Bad options or configuration: names the option or file and key."""


class SourceError(DepsatError):
    """A source (index, environment, find-links folder) that cannot be read at all."""
