# softswitch — make run | make test (see README.md)
SHELL := /bin/bash
GO ?= go
BIN := bin/softswitch
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

# Debian packages: building (cgo: SQLite now, libopus for the media core)
# and testing: sipp and baresip as independent SIP clients, unshare and ip
# for the private network namespace the end-to-end tests run in.
APT_BUILD := gcc pkg-config libopus-dev libopusfile-dev
APT_TEST := sip-tester baresip-core util-linux iproute2 chromium
# observability tests: sngrep receives HEP, tshark reads its capture, promtool (prometheus) checks a scrape
APT_TEST += sngrep tshark prometheus
# a filtered network inside the test's namespace (TestCallShowICEFiltered)
APT_TEST += iptables
# benchmarks: sipp drives the load; Kamailio and rtpengine are the reference peers
APT_BENCH := sip-tester util-linux iproute2 kamailio rtpengine-daemon
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all run build test unit e2e bench bench-go bench-sys bench-short fuzz fuzz-smoke lint deps deps-build deps-test deps-bench clean

all: build

## run: build and start on the embedded defaults (./data, dev certificate, demo users)
run: build
	./$(BIN) serve --config configs/softswitch.yaml

## build: bin/softswitch
build: deps-build
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/softswitch

## test: lint, unit and end-to-end tests with the race detector, then fuzz-smoke
test: deps lint
	$(GO) test -race -count=1 -timeout 20m ./...
	$(MAKE) fuzz-smoke

unit: deps-build
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /tests)

e2e: deps
	$(GO) test -count=1 -v ./tests/...

## bench: Go benchmarks, then the system benchmarks (sysbench, ~15 min, root); figures go to BENCHMARKS.md
BENCHTIME ?= 1s
bench: bench-go bench-sys

# tests/ and bench/sysbench hold no Go benchmarks (their TestMain builds the binary and enters a namespace).
bench-go: deps-build
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $$($(GO) list ./... | grep -v -e /tests -e /bench/sysbench)

# Set SYSBENCH_FLAGS to choose stages, e.g. SYSBENCH_FLAGS="-stages relay".
bench-sys: build deps-bench
	$(GO) run ./bench/sysbench -bin $(BIN) $(SYSBENCH_FLAGS)

## bench-short: the system benchmark once at low rates (~30 s): pass/fail on errors and lost calls, never timing
bench-short: deps-build deps-bench
	$(GO) test -count=1 ./bench/sysbench/

## fuzz: each fuzz target of every package for FUZZTIME (default 30s)
FUZZTIME ?= 30s
fuzz: deps-build
	@$(call fuzz_each,$(FUZZTIME))

## fuzz-smoke: each fuzz target for FUZZSMOKE runs (default 1000x), after its corpus.
# A count, not a duration: Go 1.26's fuzz coordinator can report a bare
# "context deadline exceeded" failure when a -fuzztime duration ends under
# CPU load (go.dev/issue/75804, fixed in Go 1.27); a count has no deadline.
FUZZSMOKE ?= 1000x
fuzz-smoke: deps-build
	@$(call fuzz_each,$(FUZZSMOKE))

# fuzz_each runs every fuzz target for $(1): go test -fuzz takes one
# package and one target per run. Only packages with a Fuzz function in
# their tests are listed (go test -list compiles the package's tests).
define fuzz_each
set -e; for pkg in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(1) $$pkg; \
  done; done
endef

## lint: gofmt and go vet
lint: deps-build
	@out=$$(find . -name '*.go' -not -path './node_modules/*' -print0 | xargs -0 gofmt -l); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## deps: install missing Debian packages (idempotent; apt-get update once, only when needed)
deps: deps-build deps-test

deps-build:
	@$(call apt_install,$(APT_BUILD))

deps-bench:
	@$(call apt_install,$(APT_BENCH))

deps-test: tests/browser/node_modules/.package-lock.json
	@$(call apt_install,$(APT_TEST))

# playwright-core (pinned in tests/browser/package-lock.json) drives Debian's
# chromium; it never downloads a browser.
tests/browser/node_modules/.package-lock.json: tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund

define apt_install
missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
if [ -n "$$missing" ]; then \
  echo "installing:$$missing"; \
  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
fi
endef

clean:
	rm -rf bin
