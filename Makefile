.PHONY: run test screenshots bench
run:
	./run.sh
test:
	./test.sh
screenshots:
	.venv/bin/python scripts/screenshots.py
bench:
	.venv/bin/python bench/etl.py 5
	.venv/bin/python bench/dashboard.py 2
