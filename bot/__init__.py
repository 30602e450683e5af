"""The composition root: settings, wiring, the aiohttp server and the `rflow` CLI."""
