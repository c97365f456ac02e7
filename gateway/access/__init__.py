"""Who is calling: principals, API-key authentication and API-key administration."""
