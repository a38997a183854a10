"""The working calendar over GraphQL."""
