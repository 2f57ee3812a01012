"""task=serve: the local search page over a library index, on localhost unless told otherwise."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from omegaconf import DictConfig

from muscall.api import load
from muscall.errors import MuscallError
from muscall.library.index import LibraryIndex
from muscall.library.search import check_model, choose_backend
from muscall.serve.app import create_app
from muscall.tasks.index import index_folder

log = logging.getLogger(__name__)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass
class Server:
    app: FastAPI
    host: str
    port: int
    tracks: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"


def run(cfg: DictConfig) -> dict[str, float]:
    server = build(cfg)
    print(f"task=serve: {server.tracks} tracks at {server.url} (Ctrl+C stops)", flush=True)
    uvicorn.run(server.app, host=server.host, port=server.port, log_level=cfg.task.log_level)
    return {"tracks": float(server.tracks)}


def build(cfg: DictConfig) -> Server:
    """The app over the index `cfg.index` (or that of `cfg.source`), searched with its model."""
    source = Path(cfg.source).expanduser().resolve() if cfg.get("source") else None
    index = LibraryIndex.load(index_folder(cfg, source))
    if not index.complete:
        log.warning("index=%s is partial (task=index did not finish): re-run it", index.folder)
    model_path = cfg.get("ckpt_path") or index.model_source
    if not model_path:
        raise MuscallError(f"index={index.folder}: names no model; give ckpt_path=CKPT_OR_EXPORT")
    model = load(model_path, device=cfg.task.device)
    check_model(model, index)
    if cfg.host not in LOCAL_HOSTS:
        log.warning(
            "host=%s: the search page and every indexed file are open to the network", cfg.host
        )
    backend = choose_backend(len(index), cfg.library.backend, cfg.library.faiss_threshold)
    app = create_app(model, index, max_upload_mb=cfg.task.max_upload_mb, backend=backend)
    return Server(app, cfg.host, int(cfg.port), len(index))
