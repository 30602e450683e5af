"""Teams transport: /api/messages auth, turns and proactive sends over real HTTP against fakes."""
