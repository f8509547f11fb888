"""Cross-cutting pieces: settings, cache, events, logging."""
