"""Trax/JAX-style function transforms: ``grad(f)`` and ``value_and_grad(f)``.

    md.grad(lambda x: 3 * x**2 + x)(x)        # 6x + 1, at every element of x

``grad(f, argnums)`` returns a new function that runs f on *copies* of the chosen
arguments marked ``requires_grad=True``, calls ``backward`` on the result (summed
first when it is not a scalar, so an elementwise f gives elementwise
derivatives), and returns the gradients.  The caller's tensors are untouched.
"""
from __future__ import annotations

from . import backend, validate
from .autograd import Tensor, enable_grad, tensor


def _grad_fn(f, argnums, with_value):
    who = "md.value_and_grad" if with_value else "md.grad"
    validate.function(f, "f", who)
    single = not isinstance(argnums, (tuple, list))
    nums = tuple(validate.non_negative_int(i, "argnums", who) for i in ((argnums,) if single else argnums))
    if not nums:
        raise ValueError(f"{who}: argnums must name at least one argument to differentiate, got {argnums!r}")

    def wrapped(*args):
        args = list(args)
        for i in nums:
            if i >= len(args):
                raise IndexError(f"{who}: argnums {i} asks for argument {i}, but f was given {len(args)}")
            a = args[i]
            try:
                data = a.data if isinstance(a, Tensor) else tensor(a).data
            except TypeError as exc:
                raise TypeError(f"{who}: argument {i} (argnums) must be a Tensor or an array of numbers ({exc})") from None
            if data.dtype.kind != "f":
                raise TypeError(f"{who}: argument {i} (argnums) must be floating to have a gradient, got {data.dtype}")
            args[i] = Tensor(data, requires_grad=True)
        with enable_grad():                       # md.grad works even inside no_grad
            value = f(*args)
            if not isinstance(value, Tensor):
                raise TypeError(f"md.grad: f must return a Tensor, got {type(value).__name__}")
            # a non-scalar output is summed: grad of sum(f(x)), handy for elementwise f
            (value if value.size == 1 else value.sum()).backward()
        grads = []
        for i in nums:
            g = args[i].grad
            grads.append(Tensor(g if g is not None else backend.xp_of(args[i].data).zeros_like(args[i].data)))
        out = grads[0] if single else tuple(grads)
        return (value.detach(), out) if with_value else out
    return wrapped


def grad(f, argnums=0):
    """Trax/JAX style: ``grad(f)(x)`` is df/dx at x.  ``grad(lambda x: 3*x**2 + x)(x) == 6x+1``."""
    return _grad_fn(f, argnums, with_value=False)


def value_and_grad(f, argnums=0):
    """Like ``grad`` but returns ``(f(x), df/dx)`` from one forward pass."""
    return _grad_fn(f, argnums, with_value=True)
