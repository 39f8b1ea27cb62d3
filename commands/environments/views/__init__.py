"""Block Kit builders and parsers of `/platform env`: pure functions, no I/O."""
