# The project's commands. `make test` is what CI runs.
.PHONY: test dev bench setup fmt clippy deploy-check

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

# `sam build` of every function, as a user runs it before `sam deploy` (slow: not in `make test`).
deploy-check:
	bash scripts/deploy-check.sh

# Cold start, warm latency, calls per operation, storm, memory and size; writes docs/BENCHMARKS.md.
bench:
	bash scripts/bench.sh
