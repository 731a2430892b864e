"""Use cases, one transaction each. Services never see GraphQL; resolvers never see a session."""
