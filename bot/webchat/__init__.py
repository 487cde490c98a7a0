"""The web chat: a page and an embeddable widget on the REST channel, live coordinator replies, terminal chat."""
