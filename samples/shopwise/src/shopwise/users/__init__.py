"""Customer accounts and authentication."""
