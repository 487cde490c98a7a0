"""Handoff to human coordinators: cases, intake with consent, ownership, coordinators and audit."""
