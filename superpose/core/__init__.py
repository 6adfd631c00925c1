"""Pieces every stage shares: errors, atomic file writes, provenance, index ranges, run manifests."""
