"""carveout: carve AI features out of a Python monolith along safe, enforced boundaries."""

__version__ = "0.1.0"
