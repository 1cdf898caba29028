# The two commands a newcomer needs: `make run` and `make test`.
GO      ?= go
BIN     := bin
DATA    ?= ./.data

.PHONY: run test build bench bench-scale lint vet fmt clean generate fuzz fuzz-ci

## run: build and run the whole system on the embedded default (local
## PostgreSQL under $(DATA)/pg, embedded NATS under $(DATA)/nats, API on
## 127.0.0.1:8080, projector). Ctrl-C stops everything; data is kept.
run: build
	@CIHUI_DATA_DIR=$(DATA) ./scripts/run.sh

## test: every test, against an embedded nats-server and a throwaway
## PostgreSQL the tests start themselves.
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

## fuzz: every Go fuzz target (found with `go test -list '^Fuzz'`), one at
## a time, FUZZTIME each (default 10m), then the black-box HTTP fuzzer for
## FUZZTIME; FUZZPARALLEL, FUZZTARGETS, FUZZMINIMIZETIME: see scripts/fuzz.sh.
FUZZTIME ?= 10m
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh
	CIHUI_HTTPFUZZ_DURATION=$(FUZZTIME) $(GO) test -count=1 -timeout 0 -v -run '^TestHTTPFuzz$$' ./internal/httpfuzz

## fuzz-ci: every fuzz target for a few seconds (CI).
fuzz-ci:
	GO=$(GO) FUZZTIME=3s FUZZMINIMIZETIME=2s ./scripts/fuzz.sh

build:
	$(GO) build -o $(BIN)/ ./cmd/...

## bench: JSON lines, each figure with its raw-engine baseline; ends with
## the scale figures at 10,000 generated cases (rebuild, store size, API
## memory and reads under an open-loop load).
bench: build
	./$(BIN)/bench

## bench-scale: the scale figures alone at 100,000 generated cases (~30
## events each, published straight into the stream): the rebuild vs raw
## JetStream ordered replay and a raw COPY of the same rows, the store's
## size, API RSS at rest and under 2,000 reads/s, the reads' latency.
## SCALE_CASES, READ_RATE, READ_DURATION change the size and the load.
SCALE_CASES ?= 100000
READ_RATE ?= 2000
READ_DURATION ?= 10s
bench-scale: build
	./$(BIN)/bench -scale -cases $(SCALE_CASES) -read-rate $(READ_RATE) -read-duration $(READ_DURATION)

lint: vet
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w .

generate:
	$(GO) generate ./...

clean:
	rm -rf $(BIN)
