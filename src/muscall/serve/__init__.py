"""The local search page over a library index: `python src/run.py task=serve index=PATH`."""

from muscall.extras import require

require("serve", "The search page (task=serve)")
