"""Rasa pipeline components for Japanese (registered with Rasa's DefaultV1Recipe on import)."""
