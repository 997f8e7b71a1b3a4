"""CRM skeleton by the indifference-interval method.

Lee SM, Cheung YK (2009). Model calibration in the continual reassessment method.
Clin Trials 6:227-238; R dfcrm ``getprior(halfwidth, target, nu, nlevel, model="empiric")``.
"""

from __future__ import annotations

import math

from trialdesk.dosefinding.design import check_int, check_prob
from trialdesk.dosefinding.errors import DoseFindingError


def getprior(halfwidth: float, target: float, nu: int, nlevel: int) -> tuple[float, ...]:
    """Empiric-model skeleton with prior MTD ``nu`` (1-based) and indifference half-width."""
    check_prob("target", target)
    check_prob("halfwidth", halfwidth, 0.0, target)
    check_int("nlevel", nlevel, 1)
    check_int("nu", nu, 1, nlevel)
    if target + halfwidth >= 1:
        raise DoseFindingError("halfwidth: target + halfwidth must be below 1")
    dosescaled = [0.0] * nlevel
    dosescaled[nu - 1] = target
    for k in range(nu, 0, -1):  # levels below nu (1-based k-1)
        if k - 1 >= 1:
            b_k = math.log(math.log(target + halfwidth) / math.log(dosescaled[k - 1]))
            dosescaled[k - 2] = math.exp(math.log(target - halfwidth) / math.exp(b_k))
    for k in range(nu, nlevel):
        b_k1 = math.log(math.log(target - halfwidth) / math.log(dosescaled[k - 1]))
        dosescaled[k] = math.exp(math.log(target + halfwidth) / math.exp(b_k1))
    return tuple(round(v, 10) for v in dosescaled)
