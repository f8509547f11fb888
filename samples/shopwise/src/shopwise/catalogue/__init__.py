"""Product catalogue: CRUD, search, and the AI-assisted product content."""
