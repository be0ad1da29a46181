"""Moderation: tools that help moderators turn sources into curated facts."""
