.PHONY: run test screenshots bench serve serve-public
run:
	./run.sh
test:
	./test.sh
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
