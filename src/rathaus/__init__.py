"""Rathaus: the citizen service platform of a German municipality."""
