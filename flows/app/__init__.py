"""Ways in: the command line, the offline demo and `serve` (Prefect's scheduler on one machine)."""
