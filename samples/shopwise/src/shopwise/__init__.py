"""Shopwise: the web shop backend (catalogue, orders, users, billing, AI helpers)."""

__version__ = "0.9.3"
