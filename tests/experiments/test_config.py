"""Configs and their command-line overrides."""

import pytest

from experiments.config import available, load_config, override


@pytest.mark.parametrize("name", available())
def test_every_config_describes_a_model(name):
    config = load_config(name)
    assert config.query in config.modalities
    assert (config.joint > 0) == (len(config.modalities) > 1)
    for spec in config.modalities.values():
        assert spec.unit in ("bernoulli", "gaussian", "replicated_softmax")


def test_the_paper_config_has_the_paper_architecture():
    config = load_config("mirflickr")
    assert tuple(config.modalities.image.hidden) == (1024, 1024)
    assert tuple(config.modalities.text.hidden) == (1024, 1024)
    assert config.joint == 2048


def test_overrides_keep_types():
    config = load_config("mnist_tags")
    override(config, "train.num_epochs=3")
    override(config, "train.learning_rate=1e-2")
    override(config, "modalities.image.hidden=(32,16)")
    override(config, "modalities.text.hidden=8")
    override(config, "data.directory=/data/here")
    assert config.train.num_epochs == 3 and config.train.learning_rate == 0.01
    assert config.modalities.image.hidden == (32, 16) and config.modalities.text.hidden == (8,)
    assert config.data.directory == "/data/here"
    with pytest.raises(ValueError, match="holds a float"):
        override(config, "train.learning_rate=fast")


def test_a_config_file_by_path(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(
        "from experiments.config import base_config\n"
        "def get_config():\n"
        "    config = base_config()\n"
        "    config.dataset = 'reuters'\n"
        "    return config\n"
    )
    assert load_config(str(path)).dataset == "reuters"
    with pytest.raises(ValueError, match="does not exist"):
        load_config(str(tmp_path / "absent.py"))
