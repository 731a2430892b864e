"""The only code that knows SQL: tables, the engine, batch readers and migrations."""
