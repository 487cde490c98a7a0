"""MedConcierge: a multilingual concierge bot for foreigners seeking medical treatment in China."""

__version__ = "0.1.0"
