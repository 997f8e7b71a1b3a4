"""What the cell laboratory and the bedside do, as transactions: each checks who may do it
(a role's permission and the site) and what the protocol's rules allow (the pure core
decides), raises :class:`~trialdesk.cellproduct.errors.CellProductError` with the reason and
saves nothing when not, and writes audited records when so. Views and the CLI only call
these."""
