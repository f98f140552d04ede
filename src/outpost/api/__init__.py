"""The HTTP layer shared by every domain package's routes."""
