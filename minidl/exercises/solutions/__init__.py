"""Reference solutions of the exercises -- SPOILERS.

Each module subclasses its template (so the forward is the very same code) and
fills in ``backward``.  The grader tests against them
(``python -m minidl.exercises check NAME --solution``); ``start`` never copies
them.  Try the exercise first: the hints (``python -m minidl.exercises hint
NAME``) lead to the answer one step at a time.
"""
