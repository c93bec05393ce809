import pytest

import regbook
from regbook import profiles


def test_quick_is_the_default_without_gpu(monkeypatch):
    monkeypatch.delenv("REGBOOK_PROFILE", raising=False)
    monkeypatch.setattr(profiles, "gpu_available", lambda: False)
    assert profiles.get_profile().name == "quick"


def test_full_is_picked_when_a_gpu_is_visible(monkeypatch):
    monkeypatch.delenv("REGBOOK_PROFILE", raising=False)
    monkeypatch.setattr(profiles, "gpu_available", lambda: True)
    assert profiles.get_profile().name == "full"


def test_environment_overrides_profile_and_seed(monkeypatch, capsys):
    monkeypatch.setenv("REGBOOK_PROFILE", "full")
    monkeypatch.setenv("REGBOOK_SEED", "7")
    cfg = regbook.setup(seed=0)
    assert cfg.profile.name == "full" and cfg.seed == 7
    assert cfg.seeds == list(range(7, 7 + cfg.profile.n_seeds))
    line = capsys.readouterr().out.strip()
    assert line.count("\n") == 0
    for part in ("TensorFlow 2.", "Keras 3.", "device: ", "profile: full", "seed: 7"):
        assert part in line


def test_profile_scales_sizes_and_epochs():
    quick, full = profiles.PROFILES["quick"], profiles.PROFILES["full"]
    assert quick.epochs(100) == 100 and full.epochs(100) > 100
    assert full.size(100, cap=150) == 150
    assert quick.n_seeds >= 3 and full.n_seeds >= quick.n_seeds
    assert not quick.allow_online and full.allow_online


def test_glue_passes_numpy_scalars_as_python_numbers(monkeypatch):
    myst_nb = pytest.importorskip("myst_nb")  # the book's tool; not on Colab
    import numpy as np

    seen = {}
    monkeypatch.setattr(
        myst_nb, "glue", lambda name, value, display=False: seen.update({name: value})
    )
    assert regbook.glue("x", np.float64(0.5)) is None
    assert regbook.glue("n", np.int64(3)) is None
    assert type(seen["x"]) is float and type(seen["n"]) is int
