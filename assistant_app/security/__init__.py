"""Outside text as data: the injection detector, fences and permissions, the audit log."""
