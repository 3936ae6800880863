"""The foundation every layer may import: errors, messages, cancellation, engine roles, config."""
