"""Back-office endpoints: feature flags, cache resets, sales reports."""
