"""Input channels (doors) through which residents reach the assistant: web chat and LINE."""
