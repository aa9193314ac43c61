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
# iptables: the web self-test and media-loss tests block UDP to a media address inside the namespace
APT_TEST += iptables
# observability tests: sngrep receives HEP, tshark reads its capture, promtool (prometheus) checks a scrape
APT_TEST += sngrep tshark prometheus
# packaging tests: dpkg installs the built .deb, systemd-analyze verifies the unit, logrotate its rotation
APT_TEST += dpkg systemd logrotate
# store tests: a throwaway PostgreSQL (initdb + postgres from /usr/lib/postgresql/N/bin) besides SQLite
APT_TEST += postgresql
# cluster tests (tests/cluster_test.go): Kamailio at the edge of two nodes, WSS for browsers
APT_TEST += kamailio kamailio-tls-modules kamailio-websocket-modules
# benchmarks: sipp drives the load; Kamailio and rtpengine are the reference peers
APT_BENCH := sip-tester util-linux iproute2 kamailio rtpengine-daemon
# the cluster stage: PostgreSQL shared by two nodes behind Kamailio (deploy/kamailio: TLS and WebSocket modules)
APT_BENCH += postgresql kamailio-tls-modules kamailio-websocket-modules
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all run build install package test unit e2e bench bench-go bench-sys bench-short fuzz fuzz-smoke lint deps deps-build deps-test deps-bench deps-nfpm clean

all: build

## run: build and start on the embedded defaults (./data, dev certificate, demo users)
run: build
	./$(BIN) serve --config configs/softswitch.yaml

## build: bin/softswitch
build: deps-build
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/softswitch

## install: the binary, the systemd unit, the packaged configuration and
## dialplan (never overwriting an existing one), logrotate and the docs.
## PREFIX (/usr/local) and DESTDIR as usual; the configuration goes to
## SYSCONFDIR (/etc, where systemd's ConfigurationDirectory= is). Then, as
## root: packaging/postinst configure (system user, data and log directories).
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR ?= $(PREFIX)/share/doc/softswitch
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/softswitch
	install -d -m 0755 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/softswitch $(DESTDIR)$(SYSCONFDIR)/logrotate.d $(DESTDIR)$(DOCDIR)/examples
	sed -e 's|/usr/bin/softswitch|$(BINDIR)/softswitch|' -e 's|/etc/softswitch/|$(SYSCONFDIR)/softswitch/|' \
	    -e 's|/usr/share/doc/softswitch/|$(DOCDIR)/|' packaging/softswitch.service > $(DESTDIR)$(UNITDIR)/softswitch.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/softswitch.service
	install -m 0644 packaging/softswitch.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/softswitch
	@for f in packaging/softswitch.yaml:softswitch.yaml scripts/dialplan.lua:dialplan.lua; do \
	  dst=$(DESTDIR)$(SYSCONFDIR)/softswitch/$${f#*:}; \
	  if [ -e $$dst ]; then echo "kept $$dst (yours)"; else install -m 0644 $${f%%:*} $$dst; fi; done
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 0644 configs/softswitch.yaml configs/production.yaml $(DESTDIR)$(DOCDIR)/examples/

## package: the Debian package (nfpm) into PKGDIR (bin/)
PKGDIR ?= bin
PKG_VERSION ?= $(shell git log -1 --format=0.0~git%cd.%h --date=format:%Y%m%d%H%M%S 2>/dev/null || echo 0.0~dev)
NFPM := $(CURDIR)/bin/nfpm
NFPM_VERSION := v2.48.0
package: deps-nfpm
	rm -rf $(PKGDIR)/pkg
	$(MAKE) --no-print-directory install DESTDIR=$(abspath $(PKGDIR))/pkg/root PREFIX=/usr
	install -m 0755 packaging/postinst packaging/prerm packaging/postrm $(PKGDIR)/pkg/
	cd $(PKGDIR)/pkg && PKG_VERSION=$(PKG_VERSION) PKG_ARCH=$$($(GO) env GOARCH) \
	  $(NFPM) package --config $(CURDIR)/packaging/nfpm.yaml --packager deb --target $(abspath $(PKGDIR))/
	rm -rf $(PKGDIR)/pkg

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

deps-test: tests/browser/node_modules/.package-lock.json deps-nfpm
	@$(call apt_install,$(APT_TEST))

# nfpm builds the Debian package (make package, tests/package_test.go);
# installed here because the tests have no network.
deps-nfpm:
	@$(GO) version -m $(NFPM) 2>/dev/null | grep -qE '^\s+mod\s+github.com/goreleaser/nfpm/v2\s+$(NFPM_VERSION)\s' || \
	  GOBIN=$(CURDIR)/bin $(GO) install github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION)

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
