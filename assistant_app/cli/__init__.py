"""The `assistant` command and its subcommands."""
