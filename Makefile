# Ferry — the two commands of the README, and the developer's helpers.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help deps build run test test-fast clean bench-migration bench-control-plane bench-notifications lab

help:
	@echo "make run    install what Ferry needs and run it in the foreground, restarting a part that fails (Ctrl-C or SIGTERM stops everything it started) [NO_BUILD=1]"
	@echo "make test   install what the tests need and run the whole suite"
	@echo "make test-fast  the tests that run inside the test process (domain, engine protocol, agent parsers, API on PostgreSQL, conventions): the edit-compile-test loop"
	@echo "make lab    the origin document's experiment here: idle and forwarding guest, N migrations per transport, table + chart [RUNS=5 RATE=2000 TRANSPORTS=qemu,native]"

deps:
	@scripts/install-deps.sh

build: deps
	dotnet build Ferry.slnx -c Release --nologo -v quiet

# make run [NO_BUILD=1]: NO_BUILD installs nothing new but Debian packages and runs what was built last (the end-to-end tests run make run so).
run: $(if $(NO_BUILD),deps,build)
	@scripts/run.sh

test: deps
	@scripts/test.sh

# make test-fast: only the tests marked [Trait("Tier", "fast")] (docs/conventions.md#tests), assemblies side by side.
test-fast: deps
	@scripts/test.sh fast

clean:
	dotnet clean Ferry.slnx --nologo -v quiet
	rm -rf .ferry

# make bench-migration SIZE=1G PROFILE=idle LINK=loopback [RUNS=5]: QEMU's loop and Ferry's engine, side by side.
bench-migration:
	@scripts/bench-link.sh "$(or $(SIZE),1G)" "$(or $(PROFILE),idle)" "$(or $(LINK),loopback)" "$(or $(RUNS),5)" $(BENCH_ARGS)

# make bench-control-plane [BENCH_ARGS="--agents 1000 --migrations 2000 --rest-rate 200"]: the API under a simulated fleet (issue 12); one JSON line.
bench-control-plane:
	@scripts/bench-control-plane.sh $(BENCH_ARGS)

# make bench-notifications [BENCH_ARGS="--subscribers 100 --migrations 1000 --migration-rate N"]: notification delivery under load, one dead subscriber (issue 13); one JSON line.
bench-notifications:
	@scripts/bench-notifications.sh $(BENCH_ARGS)

# make lab [RUNS=5] [RATE=2000] [TRANSPORTS=qemu,native] [IDLE_MIB=1024] [LAB_ARGS=--no-probe]: the origin document's experiment (issue 5).
lab: build
	@RUNS="$(RUNS)" RATE="$(RATE)" TRANSPORTS="$(TRANSPORTS)" IDLE_MIB="$(IDLE_MIB)" scripts/lab.sh $(LAB_ARGS)
