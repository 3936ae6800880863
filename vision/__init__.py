"""Vision: image understanding, sketch to HTML, rendering checks."""
