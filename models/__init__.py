"""Model catalog and store; LLM, embedding and image engines."""
