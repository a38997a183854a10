"""The optional fast path: executes plain queries without strawberry's per-field machinery."""
