"""NumPy reference implementations of the formulas the book derives.

Each module is the from-scratch version of something Keras/TensorFlow also computes; the
tests compare the two and check gradients against finite differences.
"""
