"""Conversation service, Rasa glue, custom actions, persistence, settings and the CLI."""
