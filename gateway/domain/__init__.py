"""Pure Python core: money, ids, enums, pagination and domain errors. Imports no framework."""
