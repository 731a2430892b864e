"""How the schema is served: the HTTP and WebSocket view, query limits, document caches, the
execution context and direct resolvers, error masking and rate limits.

Nothing here defines a GraphQL type: the schema's types live in the noun modules of
`gateway.graphql`, and the runtime only serves them.
"""
