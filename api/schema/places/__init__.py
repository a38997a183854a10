"""Merchants and service points over GraphQL: types, connections, queries, writes."""
