"""Payment provider plugins, loaded by dotted name from billing.payments."""
