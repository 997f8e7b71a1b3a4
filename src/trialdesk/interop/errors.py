"""The errors of :mod:`trialdesk.interop`: every one names the input and the place in it."""

from __future__ import annotations


class RecordError(ValueError):
    """A registry record (or the file holding it) cannot be read.

    ``source`` names the input (``"pages/p-0001.json"``, ``"batch.zip!inner/b.json"``),
    ``path`` the JSON path of the problem (``"$.studies[3].protocolSection.statusModule
    .overallStatus"``; empty when the problem is the file itself) and ``message`` what is
    wrong. ``str(error)`` is ``"<source>: <path>: <message>"``.
    """

    def __init__(self, source: str, path: str, message: str) -> None:
        self.source = source
        self.path = path
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.path:
            return f"{self.source}: {self.path}: {self.message}"
        return f"{self.source}: {self.message}"

    def __reduce__(self):  # picklable across processes (multiprocessing imports)
        return (type(self), (self.source, self.path, self.message))


class SourceError(RecordError):
    """A path given to read cannot be read at all (missing, unreadable, a bad .zip)."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(source, "", message)

    def __reduce__(self):
        return (type(self), (self.source, self.message))


class ExportError(ValueError):
    """Data that cannot be exported as asked (an analyte without a CDISC test code, a value
    over an XPT v5 limit, an output folder that cannot be written).

    ``place`` names where (``"LB row 3, LBTESTCD"``, ``"analyte 'hbv_dna'"``, the folder)
    and ``message`` what is wrong. ``str(error)`` is ``"<place>: <message>"``.
    """

    def __init__(self, place: str, message: str) -> None:
        self.place = place
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.place}: {self.message}"

    def __reduce__(self):
        return (type(self), (self.place, self.message))
