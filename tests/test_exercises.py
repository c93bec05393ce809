import pytest

from regbook.exercises import check


def test_check_accepts_and_rejects(capsys):
    assert check(1.0 + 1e-9, 1.0, what="x") is None  # prints the verdict, shows no value
    assert "✓ x is correct." in capsys.readouterr().out
    with pytest.raises(AssertionError, match="x is off by up to 0.1"):
        check(1.1, 1.0, what="x")
    with pytest.raises(AssertionError, match="shape"):
        check([1.0, 2.0], 1.0, what="x")
