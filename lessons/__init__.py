"""Narrated, runnable lessons: one file per topic of the course (``python -m lessons list``)."""
