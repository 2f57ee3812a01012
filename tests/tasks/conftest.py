import pytest
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf, open_dict

from muscall.config import compose_config
from tests.helpers.datasets import write_word_set


@pytest.fixture
def compose_command_line():
    """compose_config as `python src/run.py <overrides>` sees it: HydraConfig set, cleared after.

    `hydra` sets `hydra.*` values first, e.g. {"mode": "MULTIRUN", "sweep.dir": ...}.
    """

    def compose_with_hydra(output_dir, overrides=(), hydra=None):
        cfg = compose_config(overrides, output_dir, return_hydra_config=True)
        for key, value in (hydra or {}).items():
            OmegaConf.update(cfg, f"hydra.{key}", value, merge=False)
        HydraConfig.instance().set_config(cfg)
        with open_dict(cfg):
            del cfg["hydra"]  # as Hydra hands it to the task function
        return cfg

    yield compose_with_hydra
    HydraConfig.instance().cfg = None


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
