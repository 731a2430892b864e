"""The GraphQL layer: Strawberry types, per-request loaders, resolvers and the HTTP view."""
