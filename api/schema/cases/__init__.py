"""Cases over GraphQL: types, inputs, errors, queries, actions, ledger, follow codes."""
