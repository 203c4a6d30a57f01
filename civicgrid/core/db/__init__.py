"""Database backends: Django's own, with small changes for the hot paths."""
