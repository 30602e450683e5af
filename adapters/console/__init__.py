"""The local console: the product in a terminal, and the end-to-end harness (replay files)."""
