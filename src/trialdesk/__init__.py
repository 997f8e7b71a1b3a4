"""trialdesk: running early-phase cell-therapy clinical trials end to end.

The pure core (``clinical``, ``protocol``, ``eligibility``, ``dosefinding``, ``analysis``,
``interop``) imports no Django; the shell (``web``, ``registry``, ``cli``) stores and shows.
"""

__version__ = "0.1.0"
