"""Real local stand-ins of the services Torale talks to (used by tests and the smoke run)."""
