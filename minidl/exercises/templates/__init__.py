"""The exercise templates: the forward pass given, ``backward`` left for you.

``python -m minidl.exercises start NAME`` copies one of these files into your
folder (``./minidl_exercises`` by default); edit the copy, not this file.
"""
