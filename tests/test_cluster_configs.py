"""The cluster configs compose into what the launchers need: `trainer=ddp`, `trainer=slurm` and
`hydra/launcher=slurm` (submitit), checked without starting a process or a job."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf
from pytorch_lightning.strategies import DDPStrategy

from muscall.config import compose_config
from muscall.runs import assembly


def test_trainer_ddp_builds_a_two_process_trainer_that_keeps_our_samplers(tmp_path):
    cfg = compose_config(["trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2"], tmp_path)
    trainer = assembly.build_trainer(cfg, [])
    assert isinstance(trainer.strategy, DDPStrategy)
    assert trainer.world_size == 2 and trainer.num_devices == 2
    assert trainer.strategy._ddp_kwargs == {
        "find_unused_parameters": False,
        "broadcast_buffers": False,
    }
    assert trainer._accelerator_connector.use_distributed_sampler is False
    assert trainer.strategy.process_group_backend in (None, "gloo")  # chosen at setup: gloo


def test_trainer_slurm_is_ddp_with_requeue(tmp_path):
    cfg = compose_config(["trainer=slurm", "trainer.num_nodes=2"], tmp_path)
    assert cfg.trainer.strategy._target_.endswith("DDPStrategy")
    assert cfg.trainer.use_distributed_sampler is False and cfg.trainer.num_nodes == 2
    assert cfg.trainer.plugins[0].auto_requeue is True


@pytest.mark.parametrize("nodes", [1, 3])
def test_submitit_launcher_asks_for_one_task_per_gpu_on_the_trainers_nodes(tmp_path, nodes):
    overrides = ["hydra/launcher=slurm", "trainer=slurm", f"trainer.num_nodes={nodes}"]
    overrides += ["hydra.launcher.gpus_per_node=4", "hydra.launcher.partition=gpu"]
    cfg = compose_config(overrides, tmp_path, return_hydra_config=True)
    launcher = OmegaConf.to_container(cfg.hydra.launcher, resolve=True)
    assert launcher["_target_"].endswith("submitit_launcher.SlurmLauncher")
    assert launcher["tasks_per_node"] == launcher["gpus_per_node"] == 4
    assert launcher["nodes"] == nodes
    assert launcher["partition"] == "gpu"
    assert launcher["timeout_min"] == 1440 and launcher["signal_delay_s"] == 120
    assert launcher["max_num_timeout"] == 0  # a resubmitted job would start over
    assert launcher["submitit_folder"].endswith(".submitit/%j")
    assert cfg.trainer.devices == "auto"  # each task sees the node's GPUs: devices = tasks
