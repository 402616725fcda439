# The two commands of the README: `make demo` and `make test`.
# Both first run the idempotent machine set-up (system packages from Debian).

CARGO ?= cargo

.PHONY: all setup demo test lint unit bench help

all: test

help:
	@echo "make demo   set up this machine if needed, build, and run the demo"
	@echo "make test   set up this machine if needed, then lint and run every test"
	@echo "make bench  run the criterion benchmarks (figures go in issue notes)"

setup:
	@bash deploy/setup.sh

demo: setup
	@$(CARGO) build --quiet -p picket-agent -p picket-hub -p picket-deploy -p picket-sim
	@bash deploy/demo.sh

test: setup lint unit

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --quiet -- -D warnings

# The end-to-end tests run the real binaries: build them first (cargo test
# builds only the binaries of packages that have integration tests).
unit:
	$(CARGO) build --workspace --bins
	$(CARGO) test --workspace

bench: setup
	$(CARGO) build --release -p picket-agent -p picket-hub -p picket-sim
	$(CARGO) bench -p picket-proto
	$(CARGO) bench -p picket-tests --bench sync
	$(CARGO) bench -p picket-tests --bench agent
	$(CARGO) bench -p picket-tests --bench access
