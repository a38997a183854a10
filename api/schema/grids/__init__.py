"""Grids over GraphQL: the Grid type, its places and cases, gridAt and importGrids."""
