# Souk — the two commands are `make run` and `make test`.
SHELL := /bin/bash
GO    ?= go
CACHE ?= $(shell echo $${XDG_CACHE_HOME:-$$HOME/.cache})/souk
TEMPL_VERSION := v0.3.977
TEMPL := $(CACHE)/tools/templ-$(TEMPL_VERSION)/templ
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(CACHE)/tools/staticcheck-$(STATICCHECK_VERSION)/staticcheck
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# A count, not a duration: a duration-based -fuzztime races the fuzz coordinator
# (go.dev/issue/75804, fixed in Go 1.27) and fails at the deadline with nothing found.
FUZZTIME ?= 50000x


.PHONY: run test test-short vet fmt-check generate generate-check fuzz bench bench-go lint build docker clean

## run: migrate, seed the demo into an empty database and serve on http://localhost:8080 (SQLite, local media)
run:
	SOUK_SEED_DEMO=true $(GO) run ./cmd/souk serve

## test: the whole suite against real peers (MariaDB, MinIO, stripe-mock), with the race detector
test: vet fmt-check generate-check
	$(GO) run ./internal/tools/testrun -- $(GO) test -race -count=1 -timeout 25m ./...
	@if [ "$$CI" = "true" ]; then $(MAKE) --no-print-directory fuzz; fi

## test-short: the suite without starting peers (peer tests skip loudly)
test-short:
	$(GO) test -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

$(TEMPL):
	GOBIN=$(dir $(TEMPL)) $(GO) install github.com/a-h/templ/cmd/templ@$(TEMPL_VERSION)

## generate: regenerate the templ components (the generated files are committed)
generate: $(TEMPL)
	$(TEMPL) generate -path web

## generate-check: fail when the committed *_templ.go files are not what the .templ sources produce
generate-check: $(TEMPL)
	@tmp=$$(mktemp -d); cp -r web $$tmp/; $(TEMPL) generate -path $$tmp/web >/dev/null 2>&1; \
	for f in $$(cd $$tmp && find web -name '*_templ.go'); do \
	  if ! cmp -s $$tmp/$$f $$f; then echo "$$f is stale: run make generate"; rm -rf $$tmp; exit 1; fi; \
	done; rm -rf $$tmp

## fuzz: run every fuzz target for FUZZTIME (CI runs it after the tests)
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
	    $(GO) test -run='^$$' -fuzz="^$$t\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s $$pkg; \
	  done; \
	done

## bench: Souk's paths against the limit measured in the same run (docs/performance.md);
##        writes bench/results/<date>-<db>.md. BENCH_DB=mysql (MariaDB at 127.0.0.1:3306),
##        BENCH_SIZE=quick (1,000 products), BENCH_DURATION=4s, BENCH_ROUNDS=3
bench:
	GO=$(GO) $(GO) run ./internal/tools/bench

## bench-go: the Go benchmarks of the hot functions (go test -bench)
bench-go:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

$(STATICCHECK):
	GOBIN=$(dir $(STATICCHECK)) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

## lint: go vet and staticcheck
lint: vet $(STATICCHECK)
	$(STATICCHECK) ./...

## build: a static binary in bin/souk
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/souk ./cmd/souk

## docker: the production image
docker:
	docker build -t souk:$(VERSION) --build-arg VERSION=$(VERSION) .

clean:
	rm -rf bin

.PHONY: reliability

## reliability: the proofs of the rules under load, faults and hostile input; one table, docs/reliability.md
reliability:
	$(GO) run ./internal/tools/testrun -- $(GO) run ./internal/tools/reliability
