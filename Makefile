# herald — the commands the README documents. `make test` is what CI runs.
GO       ?= go
# A count, not a duration: Go 1.26's fuzz coordinator can fail a run with
# "context deadline exceeded" when a duration ends while a starved worker is
# mid-input (go.dev/issue/75804, fixed in Go 1.27); a count has no deadline.
FUZZTIME ?= 20000x

.PHONY: test short check fuzz race smoke run build bench

## test: format and vet checks, short fuzz runs of every decoder, a
## 5 000-user fan-out smoke run that fails on loss, then the whole suite with -race
test: check fuzz smoke race

## short: the inner loop, under a minute: every package's fast tests
## (go test -short skips the long end-to-end runs; make test runs them all)
short:
	$(GO) test -short ./...

check:
	@unformatted="$$(gofmt -l .)"; if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

## fuzz: each fuzz target for FUZZTIME inputs (longer: make fuzz FUZZTIME=5000000x)
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecoders$$' -fuzztime $(FUZZTIME) ./daemon/api
	$(GO) test -run '^$$' -fuzz '^FuzzRawHTTP$$' -fuzztime $(FUZZTIME) ./daemon
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./store
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./configs
	$(GO) test -run '^$$' -fuzz '^FuzzAnswer$$' -fuzztime $(FUZZTIME) ./vendors/oppo
	$(GO) test -run '^$$' -fuzz '^FuzzSimForm$$' -fuzztime $(FUZZTIME) ./vendors/oppo
	$(GO) test -run '^$$' -fuzz '^FuzzSimMessages$$' -fuzztime $(FUZZTIME) ./vendors/oppo
	$(GO) test -run '^$$' -fuzz '^FuzzSimMultiMessages$$' -fuzztime $(FUZZTIME) ./vendors/xiaomi

race:
	$(GO) test -race -count=1 ./...

## smoke: a small end-to-end fan-out through the real daemon and simulators
## (race-built, so the test run reuses its compiled packages);
## exits non-zero if any notification is lost (never on speed)
smoke:
	$(GO) run -race . bench --scenario fanout --users 5000 --quiet

## bench: the testing.B microbenchmarks beside the hot code
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./bench ./store ./vendors/...

## run: the daemon on built-in defaults
run:
	$(GO) run . serve

build:
	$(GO) build -o herald .
