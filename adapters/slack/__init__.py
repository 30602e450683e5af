"""Slack surface: pure Block Kit renderers (blocks, views, limits, actions) and the Bolt wiring."""
