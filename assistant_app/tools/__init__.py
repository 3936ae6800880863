"""Tools the model can call: the toolbox, the built-in tools and the Python sandbox."""
