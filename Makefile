# Meridian. `make demo` and `make test` are all a fresh machine needs.
GO      ?= go
BIN     := bin/meridian
RACE_PKGS := ./...

.PHONY: all build test test-deps unit race demo bench lint fmt clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/meridian

## demo: the pipeline on the embedded defaults (broker, generator) for 30 s.
demo: build
	./$(BIN) dev --duration 30s --kafka-addr 127.0.0.1:0 --http 127.0.0.1:0

## test: installs kcat and clickhouse-server when missing, then unit, integration and race tests.
test: test-deps
	$(GO) vet ./...
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race $(RACE_PKGS)

test-deps:
	@bash scripts/test-deps.sh

## bench: the standard figures (one JSON line) and the Go benchmarks.
bench: build
	./$(BIN) bench --quick
	$(GO) test -run='^$$' -bench=. -benchmem ./operators/ ./pipeline/ ./bench/
	$(GO) test -run='^$$' -bench='Update|Vector' -benchmem ./features/
	$(GO) test -run='^$$' -bench=StateBytes -benchtime=1x ./features/
	$(GO) test -run='^$$' -bench='Append|ClickHouseInsert' -benchmem ./sinks/
	$(GO) test -run='^$$' -bench=. -benchmem ./decide/ ./journeys/ ./models/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
