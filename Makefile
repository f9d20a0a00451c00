# The project's commands. `make test` is what CI runs.
.PHONY: test setup fmt clippy

test:
	bash scripts/test.sh

setup:
	bash scripts/setup.sh

fmt:
	cargo fmt --all

clippy:
	cargo clippy --workspace --all-targets -- -D warnings
