"""Discord cogs: thin adapters from commands and buttons to the engine."""
