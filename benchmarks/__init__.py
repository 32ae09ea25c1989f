"""Performance measurements; each script prints a table and writes a CSV under results/."""
