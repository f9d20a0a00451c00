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

# `sam build` (BuildMethod: makefile, built in source per samconfig.toml) runs
# `make build-<LogicalId>` once per function: the first builds every function with one cargo
# invocation, the others find it done; each copies its bootstrap into SAM's ARTIFACTS_DIR.
build-%Function:
	bash scripts/sam-build.sh "$*" "$(ARTIFACTS_DIR)"
