# The two commands a newcomer needs: `make run` and `make test`.
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: run test setup lint bench

setup:
	@scripts/bootstrap.sh

# `make run PROCESSES=2`: two Rasa servers behind HAProxy (PostgreSQL, REDIS_URL, haproxy)
PROCESSES ?= 1

run: setup
	.venv/bin/nightdesk up --processes $(PROCESSES)

test: setup
	scripts/test.sh

lint: setup
	.venv/bin/ruff check .
	.venv/bin/lint-imports

bench: setup
	.venv/bin/python bench/run_all.py
	.venv/bin/python bench/languages.py
	.venv/bin/python bench/judgement.py
	.venv/bin/python bench/margins.py
	.venv/bin/python bench/messenger_load.py
	.venv/bin/python bench/webhook_fuzz.py
	.venv/bin/python bench/crash_recovery.py
	.venv/bin/python bench/turn_growth.py
	.venv/bin/python bench/model_load.py
	.venv/bin/python bench/scale.py
