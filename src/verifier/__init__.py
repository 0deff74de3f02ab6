"""Verification and payment of poverty-prevention relief."""
