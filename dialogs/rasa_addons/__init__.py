"""Python add-ons loaded by the Rasa server (Python 3.10, `.venv-rasa`); the app never imports them."""
