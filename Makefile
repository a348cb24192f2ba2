# The Makefile is ferry's CI contract: `make test` is what .ci/run runs.
GO        ?= go
PKGS      ?= ./...
DEVDIR    ?= $(CURDIR)/.dev
BIN       := $(CURDIR)/bin
# FUZZTIME is a count of executions per target, not a duration: a timed
# run ends on a deadline that a loaded machine's workers can miss, which
# go test reports as a failure ("context deadline exceeded").
FUZZTIME  ?= 20000x

.PHONY: all build run test vet fmt-check deps-test race fuzz-smoke bench bench-s3 proto tools clean

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

## run: build and start a one-node site on local directories under .dev/
run: build
	$(BIN)/ferryd --dev $(DEVDIR)

## test: the CI contract — formatting, vet, the dependency test, race tests, fuzz smoke.
test: fmt-check vet race fuzz-smoke

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

race:
	$(GO) test -race -shuffle=on -timeout 20m $(PKGS)

## fuzz-smoke: run every Fuzz target briefly.
fuzz-smoke:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
	    echo "fuzz $$pkg $$f"; \
	    $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg; \
	  done; \
	done

## bench: Go benchmarks plus the site benchmarks recorded in docs/benchmarks.md.
bench: build
	$(GO) test -run='^$$' -bench=. -benchtime=2s ./journal/... ./raftstore/...
	$(BIN)/ferrybench -out docs/benchmarks-latest.txt

## bench-s3: the S3 gateway benchmarks of issue 3 (one-node and three-node
## sites on loopback, about 5 minutes; not part of `make test`). Variables of
## cmd/s3bench/sitebench.sh (DURATION, BIG_SIZE, SITES, OUT, ...) pass through
## the environment.
bench-s3: build
	BIN=$(BIN) bash cmd/s3bench/sitebench.sh

## proto: regenerate the committed protobuf code (protoc from Debian, plugins from the module proxy).
proto:
	protoc -I . --go_out=. --go_opt=paths=source_relative \
	  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
	  journal/journalpb/event.proto raftstore/nodepb/node.proto

tools:
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	$(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1

clean:
	rm -rf $(BIN) $(DEVDIR)
