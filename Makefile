# Ferry — the two commands of the README, and the developer's helpers.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help deps build run test clean

help:
	@echo "make run    install what Ferry needs and run it in the foreground (Ctrl-C stops everything it started)"
	@echo "make test   install what the tests need and run the whole suite"

deps:
	@scripts/install-deps.sh

build: deps
	dotnet build Ferry.slnx -c Release --nologo -v quiet

run: build
	@scripts/run.sh

test: deps
	@scripts/test.sh

clean:
	dotnet clean Ferry.slnx --nologo -v quiet
	rm -rf .ferry
