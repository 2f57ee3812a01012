"""Dataset preparation: published downloads -> the project's layout (`task=prepare`)."""
