"""Knowledge the assistant answers from: the procedure catalog and the FAQ base (plain Python, no Rasa)."""
