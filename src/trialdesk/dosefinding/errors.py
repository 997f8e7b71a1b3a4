"""The one error type of the dose-finding package."""


class DoseFindingError(ValueError):
    """Bad input to a design, rule or simulation; the message names what is wrong."""
