"""legalrag."""
