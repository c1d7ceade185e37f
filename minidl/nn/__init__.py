"""Layers (Trax names).  ``from minidl import nn``."""
from .layer import Layer, Parameter, parameter  # noqa: F401
from .dense import Dense  # noqa: F401
from . import init  # noqa: F401
