"""The kernel: orchestration, conversation, tools, security, config and CLI."""
