.PHONY: run test test-fast screenshots bench serve serve-public
# The fast tier: every test needing none of these (markers given by tests/tiers.py; tests/test_tiers.py checks)
FAST = not browser and not service and not postgres and not full_store and not fuzz
run:
	./run.sh
test:
	./test.sh
test-fast: .venv/installed
	.venv/bin/python -m compileall -q -j 0 app.py observatory etl pages >/dev/null
	.venv/bin/python -m pytest -m "$(FAST)" -q
.venv/installed: requirements.txt
	[ -x .venv/bin/python ] || python3 -m venv .venv
	.venv/bin/pip install -q -r requirements.txt
	touch $@
screenshots:
	.venv/bin/python scripts/screenshots.py
bench:
	.venv/bin/python bench/etl.py 5
	.venv/bin/python bench/dashboard.py 2
serve:
	.venv/bin/python -m etl build --if-missing
	.venv/bin/gunicorn -c deploy/gunicorn.conf.py app:server
serve-public:
	.venv/bin/python -m etl build --if-missing
	./deploy/serve-public.sh
