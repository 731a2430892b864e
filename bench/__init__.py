"""The mps-gateway benchmark suite: `python -m bench` (or `bench/run`); see bench/README.md."""
