"""The voice: turn-taking, the speech stages and what was heard, `talk`, the window's controller."""
