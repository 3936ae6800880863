"""What is kept on disk: conversations, assistants, knowledge folders, pictures, settings."""
