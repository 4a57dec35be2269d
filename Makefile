# procagent: the front door. `make help` lists the targets.
#
# Pinned tool versions live in scripts/tools.sh (`make tools-versions` prints them).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --warn-undefined-variables --no-builtin-rules

GO ?= go
TOOLS_SH := scripts/tools.sh
TOOLS_BIN := $(CURDIR)/.tools/bin
GOLANGCI_LINT := $(TOOLS_BIN)/golangci-lint
BUF := $(TOOLS_BIN)/buf

# Go tools `make tools` installs; `make tools TOOLS=benchstat` adds the optional one.
TOOLS ?= golangci-lint buf
# Packages and flags; each can be overridden on the command line.
PKGS ?= ./...
TESTFLAGS ?= -race -shuffle=on -count=1
E2EFLAGS ?= -race -count=1
BENCHPKGS ?= ./runtime/ ./rpcserver/ ./telemetry/ ./internal/osproc/
BENCHFLAGS ?= -run '^$$' -bench . -benchmem
# Actors file for `make run`; run without it when the file does not exist.
ACTORS ?= examples/demo-actors.yaml
RUNFLAGS ?=

# Go files to format-check: the tree minus hidden directories, bin/ and testdata/.
GOFILES_CMD := find . -type f -name '*.go' -not -path './.*' -not -path './bin/*' -not -path '*/testdata/*'

.PHONY: help
help: ## list the targets
	@echo "usage: make TARGET [VAR=value ...]"
	@awk 'BEGIN { FS = ":.*## " } \
	  /^##@ / { printf "\n%s\n", substr($$0, 5); next } \
	  /^[a-zA-Z0-9_.-]+:.*## / { printf "  %-16s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

##@ Build and run

.PHONY: build
build: ## build the agent into bin/agent
	$(GO) build -o bin/agent ./cmd/agent

.PHONY: run
run: build ## build, then run `bin/agent serve --actors ACTORS` (without the flag when ACTORS is absent)
	@if [[ -f "$(ACTORS)" ]]; then \
	  echo "+ bin/agent serve --actors $(ACTORS) $(RUNFLAGS)"; \
	  exec bin/agent serve --actors "$(ACTORS)" $(RUNFLAGS); \
	else \
	  echo "make: $(ACTORS) not found; running without --actors"; \
	  echo "+ bin/agent serve $(RUNFLAGS)"; \
	  exec bin/agent serve $(RUNFLAGS); \
	fi

##@ Setup

.PHONY: deps
deps: ## install the system packages tests use (prometheus, austin, protoc) when missing
	@bash $(TOOLS_SH) deps

.PHONY: tools
tools: ## install the pinned Go tools into .tools/bin when missing (TOOLS=...)
	@bash $(TOOLS_SH) go $(TOOLS)

.PHONY: tools-versions
tools-versions: ## print the pinned Go tool versions
	@bash $(TOOLS_SH) versions

.PHONY: otelcol
otelcol: ## build the OpenTelemetry Collector the tests push to into .tools/otelcol when missing
	@bash scripts/otelcol.sh

##@ Checks

.PHONY: test
test: deps otelcol ## run the unit tests with the race detector (TESTFLAGS, PKGS)
	PROCAGENT_OTELCOL="$$(bash scripts/otelcol.sh | tail -1)" $(GO) test $(TESTFLAGS) $(PKGS)

.PHONY: e2e
e2e: deps otelcol ## run the end-to-end tests through the real binary (and the dashboards' live test)
	PROCAGENT_OTELCOL="$$(bash scripts/otelcol.sh | tail -1)" $(GO) test $(E2EFLAGS) -run E2E ./cmd/... ./internal/dashgen/

# Fuzz targets `make fuzz` runs, each as PACKAGE:TARGET, for FUZZTIME each. FUZZTIME is a count
# of executions (Nx), not a duration: Go 1.26's fuzzing coordinator can report the end of a
# duration as a failure ("context deadline exceeded") when a busy machine delays a worker's
# answer; a count has no deadline to race, and the same work is done on a fast or slow machine.
FUZZ_TARGETS ?= ./procagent:FuzzValidateID ./internal/ranks:FuzzOverlayMerge ./procagent:FuzzActorParams \
  ./procagent:FuzzConfigFile ./procagent:FuzzParseDuration ./profiling:FuzzParsePySpyDump \
  ./profiling:FuzzParsePySpyRaw ./profiling:FuzzParseAustin ./profiling:FuzzParseAustinWhere \
  ./internal/osproc:FuzzParseStatm ./internal/osproc:FuzzParseChildren ./internal/ctl:FuzzArgs
FUZZTIME ?= 20000x

.PHONY: fuzz
fuzz: ## run each fuzz target (FUZZ_TARGETS) for FUZZTIME; seeds under each package's testdata/fuzz
	@for t in $(FUZZ_TARGETS); do \
	  echo "+ $(GO) test -run '^$$' -fuzz '^$${t#*:}$$' -fuzztime $(FUZZTIME) $${t%%:*}"; \
	  $(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) "$${t%%:*}" || exit 1; \
	done

.PHONY: dashboards
dashboards: ## regenerate the Grafana dashboards in dashboards/grafana (internal/dashgen)
	$(GO) run ./dashboards/gen

.PHONY: lint
lint: ## every static check: gofmt, go vet, golangci-lint, buf lint (all run; fails if any fails)
	@$(MAKE) --no-print-directory -k fmt-check vet golangci-lint buf-lint

.PHONY: fmt-check
fmt-check: ## fail when a Go file is not gofmt-formatted
	@files="$$($(GOFILES_CMD))"; \
	if [[ -z "$$files" ]]; then echo "gofmt: no Go files"; exit 0; fi; \
	unformatted="$$(gofmt -l $$files)"; \
	if [[ -n "$$unformatted" ]]; then \
	  echo "gofmt: these files need formatting (run gofmt -w):"; echo "$$unformatted"; exit 1; \
	fi

.PHONY: vet
vet: ## go vet
	$(GO) vet $(PKGS)

.PHONY: golangci-lint
golangci-lint: ## golangci-lint with .golangci.yml
	@bash $(TOOLS_SH) go golangci-lint
	$(GOLANGCI_LINT) run $(PKGS)

.PHONY: buf-lint
buf-lint: ## buf lint the .proto files (when a buf.yaml exists)
	@if [[ -f proto/buf.yaml ]]; then \
	  bash $(TOOLS_SH) go buf; echo "+ (cd proto && buf lint)"; cd proto && $(BUF) lint; \
	elif [[ -f buf.yaml ]]; then \
	  bash $(TOOLS_SH) go buf; echo "+ buf lint"; $(BUF) lint; \
	else \
	  echo "buf lint: no buf.yaml, skipped"; \
	fi

.PHONY: generate
generate: ## regenerate the Go code from proto/ (scripts/gen-proto.sh)
	@bash $(TOOLS_SH) go buf
	PATH="$(TOOLS_BIN):$$PATH" BUF="$(BUF)" bash scripts/gen-proto.sh

.PHONY: check-generate
check-generate: generate ## regenerate, then fail if anything under proto/ changed
	@changes="$$(git status --porcelain -- proto)"; \
	if [[ -n "$$changes" ]]; then \
	  echo "check-generate: regeneration changed proto/ (run make generate and commit):"; \
	  echo "$$changes"; git --no-pager diff --stat -- proto; exit 1; \
	fi; \
	echo "check-generate: proto/ is up to date"

.PHONY: ci
ci: ## run what CI runs (.ci/run)
	bash .ci/run

##@ Performance

.PHONY: bench
bench: ## run benchmarks (BENCHPKGS) into bin/bench.txt, then print the ratios; never fails
	@mkdir -p bin
	@echo "+ $(GO) test $(BENCHFLAGS) $(BENCHPKGS)"
	@$(GO) test $(BENCHFLAGS) $(BENCHPKGS) 2>&1 | tee bin/bench.txt \
	  || echo "bench: go test failed (exit $$?); ratios below are from what did run"
	@bash scripts/bench-ratios.sh bin/bench.txt || true

.PHONY: soak
soak: build ## ~60 s of mixed load on a real agent; fails on growth of RSS, heap, goroutines, threads or fds, or a worker left (SOAKTIME)
	$(GO) run ./cmd/soak -agent bin/agent -duration $(if $(filter undefined,$(origin SOAKTIME)),60s,$(SOAKTIME))

.PHONY: storm
storm: deps ## 500 exec workers crashing at once against a real agent, alone on the machine (TestE2ECrashStorm)
	PROCAGENT_STORM_WORKERS=500 $(GO) test -count=1 -v -run '^TestE2ECrashStorm$$' ./cmd/agent/

.PHONY: bench-fleet
bench-fleet: ## `mesh create` + `mesh wait --min RUNNING` across 10, 100 and 1,000 in-process agents (BenchmarkMeshCreateWait)
	$(GO) test -run '^$$' -bench BenchmarkMeshCreateWait -benchtime 3x -benchmem ./mesh/

.PHONY: bench-peers
bench-peers: ## procagent beside hollywood, protoactor-go, node-exporter and process-exporter; writes BENCHMARKS.md (~10 min)
	@bash scripts/bench-peers.sh

##@ Housekeeping

.PHONY: tidy
tidy: ## go mod tidy
	$(GO) mod tidy

.PHONY: clean
clean: ## remove bin/ (keeps the installed tools in .tools/)
	rm -rf bin

.PHONY: clean-tools
clean-tools: ## remove the installed Go tools in .tools/
	rm -rf .tools
