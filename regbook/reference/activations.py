"""Activation functions, their derivatives and the initialization variances they imply (chapter 9).

Elementwise on arrays of any shape. At the kink x = 0 the derivative is the left piece's;
frameworks differ there (TensorFlow's ReLU gradient at 0 is 0).
"""

from __future__ import annotations

import numpy as np

from ..errors import RegbookError, check_choice, check_nonnegative, check_positive_int
from ._arrays import as_finite

__all__ = [
    "sigmoid",
    "sigmoid_grad",
    "tanh",
    "tanh_grad",
    "relu",
    "relu_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "prelu",
    "prelu_grad",
    "prelu_grad_alpha",
    "elu",
    "elu_grad",
    "ACTIVATIONS",
    "init_variance",
]


def _arr(x, name: str = "x") -> np.ndarray:
    return as_finite(name, x)


def _slope(name: str, value) -> float:
    return check_nonnegative(name, value)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e^(−x)), computed without overflow for large |x|."""
    x = _arr(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(x: np.ndarray) -> np.ndarray:
    """σ'(x) = σ(x)(1 − σ(x)); its maximum is 1/4, at x = 0."""
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x: np.ndarray) -> np.ndarray:
    """tanh(x) = 2σ(2x) − 1."""
    return np.tanh(_arr(x))


def tanh_grad(x: np.ndarray) -> np.ndarray:
    """tanh'(x) = 1 − tanh²(x); its maximum is 1, at x = 0."""
    return 1.0 - np.tanh(_arr(x)) ** 2


def relu(x: np.ndarray) -> np.ndarray:
    """ReLU(x) = max(0, x)."""
    return np.maximum(_arr(x), 0.0)


def relu_grad(x: np.ndarray) -> np.ndarray:
    """ReLU'(x) = 1 for x > 0 and 0 for x ≤ 0."""
    return (_arr(x) > 0).astype(float)


def leaky_relu(x: np.ndarray, negative_slope: float = 0.2) -> np.ndarray:
    """x for x > 0, ``negative_slope``·x otherwise.

    Keras' default slope is 0.2 in ``activations.leaky_relu`` but 0.3 in ``layers.LeakyReLU``.
    """
    a = _slope("negative_slope", negative_slope)
    x = _arr(x)
    return np.where(x > 0, x, a * x)


def leaky_relu_grad(x: np.ndarray, negative_slope: float = 0.2) -> np.ndarray:
    """1 for x > 0, ``negative_slope`` otherwise: never 0 when the slope is positive."""
    a = _slope("negative_slope", negative_slope)
    return np.where(_arr(x) > 0, 1.0, a)


def prelu(x: np.ndarray, alpha) -> np.ndarray:
    """Parametric ReLU: x for x > 0, α·x otherwise, α learned (Keras starts it at 0)."""
    x = _arr(x)
    return np.where(x > 0, x, _arr(alpha, "alpha") * x)


def prelu_grad(x: np.ndarray, alpha) -> np.ndarray:
    """∂ PReLU / ∂x: 1 for x > 0, α otherwise."""
    x = _arr(x)
    return np.where(x > 0, 1.0, _arr(alpha, "alpha") * np.ones_like(x))


def prelu_grad_alpha(x: np.ndarray) -> np.ndarray:
    """∂ PReLU / ∂α = min(x, 0): the slope learns only from negative inputs."""
    return np.minimum(_arr(x), 0.0)


def elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """ELU: x for x > 0, α(e^x − 1) otherwise (saturates at −α for x → −∞)."""
    a = _slope("alpha", alpha)
    x = _arr(x)
    return np.where(x > 0, x, a * np.expm1(np.minimum(x, 0.0)))


def elu_grad(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """ELU'(x) = 1 for x > 0, α·e^x = ELU(x) + α otherwise."""
    a = _slope("alpha", alpha)
    x = _arr(x)
    return np.where(x > 0, 1.0, a * np.exp(np.minimum(x, 0.0)))


#: name → (function, derivative), with the default parameters (PReLU with α = 0.25).
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "prelu": (lambda x: prelu(x, 0.25), lambda x: prelu_grad(x, 0.25)),
    "elu": (elu, elu_grad),
}


def init_variance(kind: str, fan_in: int, fan_out: int | None = None) -> float:
    """Initial weight variance: ``lecun`` 1/n_in, ``glorot`` 2/(n_in + n_out), ``he`` 2/n_in."""
    check_choice("kind", kind, ("lecun", "glorot", "he"))
    n_in = check_positive_int("fan_in", fan_in)
    if kind == "lecun":
        return 1.0 / n_in
    if kind == "he":
        return 2.0 / n_in
    if fan_out is None:
        raise RegbookError("init_variance('glorot', ...) needs fan_out as well as fan_in.")
    return 2.0 / (n_in + check_positive_int("fan_out", fan_out))
