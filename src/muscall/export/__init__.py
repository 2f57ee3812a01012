"""Writing a trained model out for use elsewhere; import the submodule for the format you need."""
