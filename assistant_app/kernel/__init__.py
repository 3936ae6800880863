"""The kernel: the chat session, its context window, memory, think-longer and attachments."""
