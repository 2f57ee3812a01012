"""A music library indexed by a trained model: walk a folder, embed it once, search it."""
