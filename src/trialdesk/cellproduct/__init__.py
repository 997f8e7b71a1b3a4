"""The cell product from umbilical cord to infusion: donor, collection, receipt, processing,
culture, cryopreservation, the product lot and its release, dose units, the bedside check
and the trace both ways (issue 13). The rules are the pure core's (``trialdesk.product``,
``trialdesk.protocol.cellproduct``); this app stores, shows and links them to conduct."""
