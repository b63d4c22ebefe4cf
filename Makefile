# gitlab-oidc — run `make help` for the targets.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/gitlab-oidc
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
FUZZTIME ?= 10s
PKGS := ./...

.PHONY: help build demo test test-unit fuzz lint vet fmt-check staticcheck screenshots bench clean

help: ## Show this help
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z_-]+:.*## /{printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## Build bin/gitlab-oidc
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/gitlab-oidc

demo: build ## Run the setup wizard against a simulated account and project
	./$(BIN) setup --demo

test: lint fuzz test-unit ## Everything CI runs: lint, unit+integration tests (moto, gitlab-ci-local, tmux), short fuzzing

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

test-unit: build node_modules/.package-lock.json ## Unit and integration tests
	GITLAB_OIDC_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 15m $(PKGS)

fuzz: ## Run every fuzz target for FUZZTIME (default 10s)
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg >/dev/null || { $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 1x $$pkg; exit 1; }; \
	  done; \
	done

lint: fmt-check vet staticcheck ## gofmt, go vet and staticcheck

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^tools/')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

bin/staticcheck: tools/go.mod
	$(GO) build -C tools -o $(CURDIR)/bin/staticcheck honnef.co/go/tools/cmd/staticcheck

bin/freeze: tools/go.mod
	$(GO) build -C tools -o $(CURDIR)/bin/freeze github.com/charmbracelet/freeze

staticcheck: bin/staticcheck
	./bin/staticcheck $(PKGS)

screenshots: build bin/freeze ## Render the demo's screens to screenshots/*.png (tmux + freeze)
	./scripts/screenshots.sh

bench: build ## Go benchmarks and the latency-proxy benchmark of setup, doctor and audit
	$(GO) test -run '^$$' -bench . -benchmem -count 5 $(PKGS) | tee bench.out
	./scripts/bench.sh

clean: ## Remove build outputs
	rm -rf bin bench.out
