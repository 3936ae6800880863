"""The prompt-injection attack corpus and the tests and benchmark that run it."""
