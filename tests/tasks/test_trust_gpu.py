"""On a GPU under bf16 mixed precision, too, the metrics printed after training are those
of `task=retrieval` / `task=zeroshot` on the best checkpoint (skipped without CUDA)."""

import pytest

from muscall.config import compose_config
from muscall.tasks import retrieval, train, zeroshot
from tests.helpers.datasets import MANY_WORDS, write_tiny_dataset, write_word_set

pytestmark = pytest.mark.gpu


def test_post_fit_metrics_equal_the_eval_tasks_on_a_gpu(tmp_path):
    data = write_tiny_dataset(tmp_path / "tiny", counts=(48, 24, 24), words=MANY_WORDS, semitones=3)
    set_file = write_word_set(data)
    common = ["trainer=gpu", "data=folder", f"data.root={data}", "data.num_workers=2"]
    fit = train.run(
        compose_config(
            [
                *common,
                "model=tiny",
                "data.clip_seconds=1.0",
                "data.eval_hop_seconds=0.5",
                "data.batch_size=8",
                f"+data.zeroshot_sets.words={set_file}",
                "trainer.max_epochs=3",
                "trainer.enable_progress_bar=false",
            ],
            tmp_path / "fit",
        )
    )
    assert 0 < fit["test/text_to_audio_R@10"] < 100
    evaluate = [*common, f"ckpt_path={fit['best_checkpoint']}"]
    got = retrieval.run(compose_config(["task=retrieval", *evaluate], tmp_path / "r"))
    assert {f"test/{k}": v for k, v in got.items()} == pytest.approx(
        {k: v for k, v in fit.items() if k.startswith("test/")}, rel=1e-6
    )
    sets = f"zeroshot.sets={{words: {set_file}}}"
    zs = zeroshot.run(compose_config(["task=zeroshot", *evaluate, sets], tmp_path / "z"))
    assert zs == pytest.approx({k: v for k, v in fit.items() if k.startswith("zeroshot/")})
