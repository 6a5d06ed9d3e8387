# flowsym's build, test and benchmark entry points. `make check` is what CI
# runs (via .ci/run); README.md lists the two commands a new user needs.

GO        ?= go
PKGS      ?= ./...
BIN       ?= bin/flowsym
FUZZTIME  ?= 10s
# Fuzz targets as package:target; each runs for FUZZTIME in `make fuzz`.
FUZZ_TARGETS ?= $(shell grep -ho '^func Fuzz[A-Za-z0-9]*' $$(git ls-files '*_test.go' 2>/dev/null) 2>/dev/null | sed 's/func //' | sort -u)

.PHONY: all build test test-short test-race fuzz bench bench-module beam-module demo lint fmt cover deps check clean

all: build

build:
	$(GO) build -ldflags "-X main.version=$$(git describe --tags --always 2>/dev/null || echo dev)" -o $(BIN) ./cmd/flowsym

# deps installs what the tests need beyond Go modules: Azurite, Azure's
# storage emulator, from the pinned npm lockfile. Without npm the Azure
# tests skip (unless FLOWSYM_REQUIRE_EMULATORS=1, as in CI).
deps:
	@if [ -f tools/azurite/package-lock.json ] && command -v npm >/dev/null; then \
		[ -x tools/azurite/node_modules/.bin/azurite-blob ] || \
		npm ci --prefix tools/azurite --no-audit --no-fund --loglevel=error; \
	fi

test: deps
	$(GO) test $(PKGS)

test-short:
	$(GO) test -short $(PKGS)

test-race: deps
	$(GO) test -race -short $(PKGS)

# fuzz runs every fuzz target briefly (Go fuzzes one target per run).
# Minimizing is off: with the default 60s per new input, a 10-second run
# spent all of its time minimizing the first inputs that found new coverage
# and ran a few dozen inputs (about 9,000 with it off). A crasher is still
# written to testdata/fuzz, unminimized.
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$$(grep -l "^func $$t(" $$(git ls-files '*_test.go') | head -1 | xargs dirname); \
		echo "fuzz $$t in ./$$pkg for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=0s ./$$pkg; \
	done

# bench runs the Go benchmarks; each reports its own baseline measured in
# the same run, so compare ratios, not absolute figures.
bench:
	$(GO) test -run='^$$' -bench=. -benchtime=3x $(PKGS)

lint:
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

cover: deps
	$(GO) test -coverprofile=cover.out $(PKGS)
	$(GO) tool cover -func=cover.out | tail -1

# demo generates the demo estate (AWS, GCP and Azure hubs and spokes with
# injected faults), analyzes it, and writes the HTML report next to it.
demo: build
	@mkdir -p out
	$(BIN) generate --out out/demo --overwrite > /dev/null
	$(BIN) analyze --config out/demo/flowsym.yaml out/demo/logs --progress off
	@$(BIN) analyze --config out/demo/flowsym.yaml out/demo/logs --progress off --format html --out out/demo/report.html 2> /dev/null
	@echo "HTML report: out/demo/report.html; logs, topology and ground truth: out/demo/"

# bench-module tests the separate bench module: DuckDB, through its Go
# driver, reads the analysis export back (cgo; the first build compiles
# DuckDB's binding, about 3 minutes). The CLI module never links DuckDB.
bench-module:
	cd bench && $(GO) vet ./... && $(GO) test ./...

# beam-module checks the Apache Beam pipeline's separate module (dist/beam,
# docs/beam.md): its go.sum is tidy against the main module, vet,
# staticcheck, and its tests, which run the pipeline on Prism and compare it
# with the CLI. The first build compiles the Beam SDK (about 3-7 minutes).
beam-module: deps
	cd dist/beam && $(GO) mod tidy -diff && $(GO) vet ./... && $(GO) tool staticcheck ./... && $(GO) test ./...

# check is everything CI checks: lint, all tests (emulators required when
# FLOWSYM_REQUIRE_EMULATORS=1), the bench and Beam modules, and a short run
# of every fuzz target.
check: lint test bench-module beam-module fuzz

clean:
	rm -rf bin out cover.out

# bench-e2e times flowsym against DuckDB end to end on generated AWS flow
# logs, alternating runs, and prints the ratios against issue 7's targets and
# a memory series (docs/bench-e2e.md). About 15 minutes on 2 cores; pass
# -dir to `go run ./e2e` to keep the generated logs between runs.
.PHONY: bench-e2e
bench-e2e:
	cd bench && $(GO) run ./e2e -layout both
