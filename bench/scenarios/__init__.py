"""The bench's scenarios; each returns a ScenarioResult (bench/results.py)."""
