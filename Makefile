# The two set-up commands (see README.md), each working from a fresh clone:
#   make run    install into .venv, ingest the sample corpus if the index is empty, run the main job
#   make test   install into .venv and run the test suite (what .ci/run calls)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.legalrag-installed
# torch goes in first, as its CPU build: a bare `torch` requirement pulls a multi-GB CUDA build.
TORCH ?= torch==2.13.0
QUESTION ?= How long does a landlord in California have to return a security deposit?

.PHONY: install run ask test lint lock bench bench-quick clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "legalrag needs Python >= 3.11 (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

# Re-pin constraints.txt to what is installed now (after changing pyproject.toml
# and checking that `make test` passes).
lock: install
	{ sed -n '1,3p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable \
		| grep -v -i -e '^legalrag' | sed 's/^torch==.*/torch==2.13.0/'; } > constraints.new
	mv constraints.new constraints.txt

# The main job on the embedded default: the web chat on http://127.0.0.1:7860/
# (offline: the extractive answerer; LEGALRAG_LLM_BASE_URL for a model).
run: install
	$(BIN)/legalrag ingest --if-empty
	$(BIN)/legalrag chat

# One question on the command line, with its checked citations.
ask: install
	$(BIN)/legalrag ingest --if-empty
	$(BIN)/legalrag ask "$(QUESTION)"

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The benchmarks of docs/benchmarks.md. Full mode builds a 1M-chunk index once (about
# 40 minutes on 2 cores with its BM25 cache, kept in $(BENCH_DIR) for reruns) and runs
# for about an hour in all; `make bench-quick` is what the tests run.
BENCHES = ingest_overhead query_latency answer_overhead langchain_baseline scale_ingest verify_latency ingest_documents api_load store_write
BENCH_DIR ?= $(HOME)/.cache/legalrag-bench

bench: install
	$(BIN)/python bench/ingest_overhead.py
	$(BIN)/python bench/query_latency.py --work-dir $(BENCH_DIR)
	$(BIN)/python bench/answer_overhead.py
	$(BIN)/python bench/langchain_baseline.py
	$(BIN)/python bench/scale_ingest.py
	$(BIN)/python bench/verify_latency.py
	$(BIN)/python bench/api_load.py
	$(BIN)/python bench/answer_overhead.py --embedding-endpoint
	$(BIN)/python bench/store_write.py

bench-quick: install
	for b in $(BENCHES); do $(BIN)/python bench/$$b.py --quick || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
