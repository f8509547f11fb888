"""Database layer: engine, sessions and the ORM models shared by every package."""
