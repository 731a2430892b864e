"""mps-gateway: a GraphQL gateway over the Mipise Payment Services model."""

__version__ = "0.1.0"
