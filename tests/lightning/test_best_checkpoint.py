"""BestCheckpoint: a saturated score's ties go to the finer metric, across a resume too."""

import pytest
import pytorch_lightning as pl
import torch
from torch import nn
from torch.utils.data import DataLoader

from muscall.config import compose_config
from muscall.lightning import BestCheckpoint

MONITOR = "val/text_to_audio_R@10"
TIE = "val/text_to_audio_mean_rank"


class Scripted(pl.LightningModule):
    """Logs a given (R@10, mean rank) at each epoch's validation."""

    def __init__(self, scores):
        super().__init__()
        self.layer = nn.Linear(1, 1)
        self.scores = scores

    def training_step(self, batch, batch_idx):
        return self.layer(batch).sum()

    def validation_step(self, batch, batch_idx):
        pass

    def on_validation_epoch_end(self):
        r10, rank = self.scores[self.current_epoch]
        self.log(MONITOR, float(r10))
        self.log(TIE, float(rank))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.0)

    def train_dataloader(self):
        return DataLoader(torch.ones(1, 1), batch_size=1)

    def val_dataloader(self):
        return DataLoader(torch.ones(1, 1), batch_size=1)


def _best(dirpath, **kw):
    return BestCheckpoint(
        dirpath=dirpath,
        filename="best-epoch{epoch:03d}",
        auto_insert_metric_name=False,
        monitor=MONITOR,
        mode="max",
        tie_breaker=TIE,
        tie_breaker_mode="min",
        save_top_k=1,
        **kw,
    )


def _fit(dirpath, scores, epochs=None, ckpt_path=None):
    best = _best(dirpath)
    last = pl.callbacks.ModelCheckpoint(dirpath=dirpath, filename="last", save_top_k=1)
    trainer = pl.Trainer(
        max_epochs=epochs or len(scores),
        callbacks=[best, last],
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        accelerator="cpu",
        default_root_dir=dirpath,
    )
    trainer.fit(Scripted(scores), ckpt_path=ckpt_path)
    return best


def _best_files(dirpath):
    return sorted(p.name for p in dirpath.glob("best-*.ckpt"))


@pytest.mark.parametrize(
    "scores,expected",
    [
        ([(50, 5), (50, 3)], 1),  # equal R@10, lower mean rank: replaces
        ([(50, 3), (50, 5)], 0),  # equal R@10, higher mean rank: kept
        ([(50, 3), (50, 3)], 0),  # equal on both: the first stays
        ([(50, 3), (40, 1)], 0),  # worse R@10 whatever the rank: kept
        ([(50, 3), (60, 9)], 1),  # better R@10 whatever the rank: replaces
    ],
)
def test_ties_on_the_monitor_go_to_the_tie_breaker(tmp_path, scores, expected):
    best = _fit(tmp_path, scores)
    assert _best_files(tmp_path) == [f"best-epoch{expected:03d}.ckpt"]
    assert best.best_model_path.endswith(f"best-epoch{expected:03d}.ckpt")
    assert float(best.best_model_score) == scores[expected][0]
    assert float(best.best_tie_score) == scores[expected][1]


@pytest.mark.parametrize(
    "after_resume,replaced",
    [
        ((50, 2), True),  # beats the restored tie score 3
        ((50, 4), False),  # a tie on R@10 with a worse rank than the restored best
    ],
)
def test_the_tie_state_survives_a_resume(tmp_path, after_resume, replaced):
    scores = [(50, 5), (50, 3), after_resume]
    _fit(tmp_path, scores, epochs=2)
    assert _best_files(tmp_path) == ["best-epoch001.ckpt"]
    best = _fit(tmp_path, scores, epochs=3, ckpt_path=tmp_path / "last.ckpt")
    expected = 2 if replaced else 1
    assert _best_files(tmp_path) == [f"best-epoch{expected:03d}.ckpt"]
    assert float(best.best_tie_score) == scores[expected][1]


def test_state_dict_round_trip_only_into_the_same_folder(tmp_path):
    best = _fit(tmp_path, [(50, 5), (50, 3)])
    state = best.state_dict()
    assert float(state["best_tie_score"]) == 3.0
    again = _best(tmp_path)
    again.load_state_dict(state)
    assert float(again.best_tie_score) == 3.0 and float(again.best_model_score) == 50.0
    # Another folder: Lightning does not restore the best score there, nor should the tie.
    elsewhere = _best(tmp_path / "elsewhere")
    with pytest.warns(UserWarning, match="dirpath has changed"):
        elsewhere.load_state_dict(state)
    assert elsewhere.best_tie_score is None and elsewhere.best_model_score is None


def _callback_state(path):
    saved = torch.load(path, weights_only=True)
    (state,) = [v for k, v in saved["callbacks"].items() if k.startswith("BestCheckpoint")]
    return state


def test_the_best_checkpoint_file_carries_its_own_tie_score(tmp_path):
    _fit(tmp_path, [(50, 5), (50, 3)])
    assert float(_callback_state(tmp_path / "best-epoch001.ckpt")["best_tie_score"]) == 3.0


def test_last_checkpoint_carries_the_current_tie_score(tmp_path):
    _fit(tmp_path, [(50, 5), (50, 3)])
    assert float(_callback_state(tmp_path / "last.ckpt")["best_tie_score"]) == 3.0


def test_bad_settings_are_refused(tmp_path):
    with pytest.raises(ValueError, match="save_top_k must be 1"):
        BestCheckpoint(dirpath=tmp_path, monitor=MONITOR, save_top_k=2)
    with pytest.raises(ValueError, match="tie_breaker_mode"):
        BestCheckpoint(dirpath=tmp_path, monitor=MONITOR, tie_breaker=TIE, tie_breaker_mode="mean")


def test_the_default_callbacks_break_r10_ties_on_mean_rank(tmp_path):
    cfg = compose_config(output_dir=tmp_path)
    best = cfg.callbacks.model_checkpoint
    assert best._target_ == "muscall.lightning.BestCheckpoint"
    assert (best.monitor, best.mode) == (cfg.task.optimized_metric, "max") == (MONITOR, "max")
    assert (best.tie_breaker, best.tie_breaker_mode) == (TIE, "min")
