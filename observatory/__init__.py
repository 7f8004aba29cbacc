"""Observatoire des métiers du social: store, catalogue and query layer."""
