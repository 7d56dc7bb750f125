# The two commands: `make demo` (one nightly cycle on the embedded default) and `make test`.
# `make check` runs the type checker (strict on the core, mmwatch/), as CI does.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export HF_HUB_OFFLINE := 1

.PHONY: demo test test-fast check leaderboard operator-board site bench clean

# torch comes from pip (the CPU build on local disk: pinned, never a CUDA download); the ~150 other
# packages from uv, which downloads in parallel (about 30 s instead of 2-3 minutes with pip) and
# keeps the torch already installed. Without uv, pip installs them.
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	($(BIN)/pip install --quiet uv && VIRTUAL_ENV=$(abspath $(VENV)) $(BIN)/uv pip install --quiet -e ".[test]") \
		|| $(BIN)/pip install --quiet -e ".[test]"
	$(BIN)/python -c "import torch, sys; sys.exit(0 if torch.__version__.endswith('+cpu') else 'torch is not the CPU build: ' + torch.__version__)"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mmwatch demo --config configs/demo.yaml

# The suite starts dozens of Python processes (servers, workers, flow runs): let the first one
# write bytecode for the rest, even where PYTHONDONTWRITEBYTECODE is set (uv installs none).
# Two test processes: much of the suite waits on servers and workers it starts, so the two cores
# stay busy (about 6 minutes on this machine when it is otherwise quiet).
test: $(STAMP)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -q -n 2 --dist worksteal

check: $(STAMP)
	$(BIN)/mypy

test-fast: $(STAMP)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -q -m "not slow"

# The public board (.streamlit/config.toml hides the toolbar and Deploy button), the operator's board
# (Label and Runs pages; needs leaderboard.operator_snapshot in the config) and the static site.
leaderboard: $(STAMP)
	MMWATCH_SNAPSHOT=leaderboard.duckdb $(BIN)/streamlit run leaderboard/app.py --server.headless true

operator-board: $(STAMP)
	MMWATCH_SNAPSHOT=operator.duckdb $(BIN)/streamlit run leaderboard/app.py --server.headless true --server.port 8502

site: $(STAMP)
	$(BIN)/mmwatch export-site site --force

bench: $(STAMP)
	set -e; for f in benchmarks/*.py; do case $$f in benchmarks/__init__.py|benchmarks/synthetic_store.py) continue;; esac; \
		echo "== $$f"; $(BIN)/python $$f; done; \
		echo "== benchmarks/reliability"; $(BIN)/python -m benchmarks.reliability

clean:
	rm -rf mmwatch.duckdb* leaderboard.duckdb* operator.duckdb* artifacts results demo-models .prefect site
