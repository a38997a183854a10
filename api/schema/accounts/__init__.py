"""Accounts over GraphQL: users, tokens and registered units (administrators)."""
