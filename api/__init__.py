"""Circle: the GraphQL API of the 15-minute service circle and the grid case platform."""
