"""Shared fixtures. Importing regbook first keeps TensorFlow's start-up logs quiet."""

import regbook  # noqa: F401  (sets TF log level before TensorFlow is imported)
