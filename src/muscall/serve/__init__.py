"""The local search page over a library index: `python src/run.py task=serve index=PATH`."""
