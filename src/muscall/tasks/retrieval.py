"""task=retrieval: text-to-music and music-to-text retrieval of a checkpoint on a split."""

from __future__ import annotations

from omegaconf import DictConfig

from muscall.errors import MuscallError
from muscall.evaluate.embed import embed_audio
from muscall.evaluate.retrieval import retrieval_from_audio_emb
from muscall.report import format_table, write_metrics
from muscall.tasks import components


def run(cfg: DictConfig) -> dict[str, float]:
    net, device = components.load_for_eval(cfg, "retrieval")
    datamodule = components.build_datamodule(cfg, net.tokenizer, net.frontend.sample_rate)
    split = cfg.task.split
    indices, audio_emb = embed_audio(net, datamodule.pairs_loader(split), device)
    if len(indices) == 0:
        raise MuscallError(
            f"data.root={datamodule.root}: no audio of split {split!r} could be read"
        )
    metrics = retrieval_from_audio_emb(net, datamodule.tracks(split), indices, audio_emb)
    out = components.output_dir(cfg)
    write_metrics(metrics, out)
    print(format_table(metrics, f"task=retrieval split={split} -> {out}"))
    return metrics
