# Every target installs what it needs first, so each works alone on a fresh machine.
# What `make install` installs is exactly uv.lock (every package, version and hash); only
# `make lock` resolves. uv itself comes hash-pinned from .ci/uv-requirements.txt.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
UV_DIR := .tools/uv
UV := $(UV_DIR)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
# A shell-level guard for every command below; the Python side is muscall.config.go_offline,
# which src/run.py, the tests and the benchmark call.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export WANDB_MODE ?= offline

.PHONY: install lock main data test test-slow test-all test-browser lint format bench bench-gpu clean clean-runs

install: $(STAMP)

$(UV): .ci/uv-requirements.txt
	$(PYTHON) -m pip install --quiet --require-hashes --no-deps --upgrade --target $(UV_DIR) \
		-r .ci/uv-requirements.txt
	touch $(UV)

# --locked: a lock that no longer matches pyproject.toml stops here, naming `make lock`.
$(STAMP): pyproject.toml uv.lock $(UV)
	$(UV) sync --locked --all-extras --python $(PYTHON) \
		|| { echo "make install: uv.lock does not match pyproject.toml (or the install failed): run 'make lock', then commit uv.lock" >&2; exit 1; }
	$(PY) -m muscall.install_check
	touch $(STAMP)

## The one step that resolves: rewrite uv.lock from pyproject.toml (then commit it).
lock: $(UV)
	$(UV) lock

## The main job: build the built-in dataset if missing, train, evaluate retrieval + zero-shot.
main: install
	$(PY) src/run.py experiment=cpu_demo

## Render the built-in dataset into data/synthmusic.
data: install
	$(PY) src/run.py task=generate

test: install
	sh tests/fixtures_tools.sh
	$(PY) -m pytest -m "not slow and not gpu and not browser" -q

test-slow: install
	$(PY) -m pytest -m "slow" -q

## The search page in headless Debian chromium; screenshot: outputs/browser/search_page.png
## (or $MUSCALL_SCREENSHOT). Installs chromium + chromedriver with apt-get (root) if missing.
test-browser: install
	command -v chromium >/dev/null && command -v chromedriver >/dev/null \
		|| (apt-get update && apt-get install -y chromium chromium-driver)
	$(PY) -c "import selenium" 2>/dev/null || $(UV) sync --locked --all-extras --group browser
	$(PY) -m pytest -m browser tests/browser -q

test-all: install
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/ruff check src tests bench

format: install
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

## Data loading against a training step (bench/loading.py), training and inference speed
## against the original (bench/run.py), library indexing and search (bench/library.py),
## retrieval evaluation at 1k-100k items against the previous implementation (bench/retrieval.py),
## and what augmentation costs per training step (bench/augment.py).
bench: install
	$(PY) bench/loading.py
	$(PY) bench/decoding.py
	$(PY) bench/retrieval.py
	$(PY) bench/library.py
	$(PY) bench/augment.py
	$(PY) bench/hf_towers.py
	# Last: its table gathers the loading and retrieval figures just written.
	$(PY) bench/run.py

## One prepared GPU run (under 8 minutes on one GPU): the GPU-marked tests, ours against the
## paired original at batch 256 x 20 s in bf16 with MFU, gradient caching's largest batch, and
## NCCL DDP where there are several GPUs; writes bench/results/*-gpu-<device>.json.
bench-gpu: install
	$(PY) bench/gpu.py

## Caches only: runs and checkpoints stay.
clean:
	rm -rf .pytest_cache .ruff_cache .tools
	find src tests bench -name __pycache__ -type d -prune -exec rm -rf {} +

## Deletes every run under outputs/ (and multirun/), checkpoints included: there is no undo.
clean-runs:
	rm -rf outputs/*/ multirun
