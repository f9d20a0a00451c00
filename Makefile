# The project's commands. `make test` is what CI runs.
.PHONY: test dev bench setup fmt clippy

test:
	bash scripts/test.sh

setup:
	bash scripts/setup.sh

fmt:
	cargo fmt --all

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

# The whole stack locally: DynamoDB Local, the WeChat simulator, every function.
dev:
	bash scripts/dev.sh

# Cold start, warm latency, calls per operation, storm, memory and size; writes docs/BENCHMARKS.md.
bench:
	bash scripts/bench.sh
