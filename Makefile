# herald — the commands the README documents. `make test` is what CI runs.
GO       ?= go
FUZZTIME ?= 10s

.PHONY: test check fuzz race run build

## test: format and vet checks, short fuzz runs of every decoder, then the whole suite with -race
test: check fuzz race

check:
	@unformatted="$$(gofmt -l .)"; if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

## fuzz: each fuzz target for FUZZTIME (longer: make fuzz FUZZTIME=10m)
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecoders$$' -fuzztime $(FUZZTIME) ./daemon
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./store
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./configs

race:
	$(GO) test -race -count=1 ./...

## run: the daemon on built-in defaults
run:
	$(GO) run . serve

build:
	$(GO) build -o herald .
