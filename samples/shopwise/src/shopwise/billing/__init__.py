"""Billing: invoices and payment capture."""
