"""The service circle and circle codes over GraphQL."""
