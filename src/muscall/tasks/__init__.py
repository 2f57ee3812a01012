"""Tasks: each is `run(cfg) -> dict[str, float]`, dispatched by `src/run.py task=<name>`."""
