"""NLU training data per language and custom Rasa components (run inside the Rasa runtime)."""
