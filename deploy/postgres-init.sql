-- Rasa's tracker store lives in its own database next to the application's.
CREATE DATABASE medconcierge_tracker OWNER medconcierge;
