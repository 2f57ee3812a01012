"""Run plumbing shared by the tasks: assembling a run from its config (folder, seed, data,
trainer), loggers, resuming, evaluating a checkpoint, the run folders and the sweep record."""
