"""Cross-cutting pieces of the HTTP API: authentication, rate limits, errors, parsing."""
