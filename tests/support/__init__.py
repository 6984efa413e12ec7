"""Helpers shared by several test directories (imported as ``tests.support.<module>``)."""
