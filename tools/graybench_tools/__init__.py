"""graybench's Python tools: load, report, merge, simulate, baseline."""
