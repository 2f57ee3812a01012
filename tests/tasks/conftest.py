import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf, open_dict

from muscall.config import CONFIG_DIR, register_resolvers

from ..conftest import write_tiny_dataset, write_word_set

register_resolvers()


def compose_cfg(output_dir, overrides=()):
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides))
    with open_dict(cfg):
        cfg.paths.output_dir = str(output_dir)
    return cfg


@pytest.fixture
def compose_command_line():
    """compose_cfg as `python src/run.py <overrides>` sees it: HydraConfig set, cleared after.

    `hydra` sets `hydra.*` values first, e.g. {"mode": "MULTIRUN", "sweep.dir": ...}.
    """

    def compose_with_hydra(output_dir, overrides=(), hydra=None):
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            cfg = compose(config_name="config", overrides=list(overrides), return_hydra_config=True)
        for key, value in (hydra or {}).items():
            OmegaConf.update(cfg, f"hydra.{key}", value, merge=False)
        HydraConfig.instance().set_config(cfg)
        with open_dict(cfg):
            del cfg["hydra"]  # as Hydra hands it to the task function
            cfg.paths.output_dir = str(output_dir)
        return cfg

    yield compose_with_hydra
    HydraConfig.instance().cfg = None


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    """One tiny dataset for the module: training on it is the slow part of these tests."""
    return write_tiny_dataset(tmp_path_factory.mktemp("data") / "tiny")


@pytest.fixture(scope="module")
def tiny_set_file(tiny_dataset):
    """A labelled set of the tiny dataset's test clips: classes are the caption words."""
    return write_word_set(tiny_dataset)


@pytest.fixture(scope="module")
def train_overrides(tiny_dataset, tiny_set_file):
    return [
        "model=tiny",
        "trainer=cpu",
        "data=folder",
        f"data.root={tiny_dataset}",
        "data.clip_seconds=1.0",
        "data.batch_size=4",
        "data.num_workers=0",
        f"+data.zeroshot_sets.words={tiny_set_file}",
        "trainer.max_epochs=2",
        "trainer.enable_progress_bar=false",
        "seed=0",
        # wandb rides along (offline) so the logging path is exercised by every train test.
        "logger=wandb",
    ]
