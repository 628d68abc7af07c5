package daemon

import (
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/herald-push/herald/actors"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
)

// metrics are the daemon's Prometheus instruments, on a registry of its own.
type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	storeWrite   *prometheus.HistogramVec
	batchSize    *prometheus.HistogramVec
	inboxDropped prometheus.Counter
	sendTime     *prometheus.HistogramVec
}

func newMetrics(activeUsers func() float64, senders func() map[vendors.Kind]actors.SenderSnapshot, space func() store.Space, pebble func() (store.PebbleStats, bool),
	yieldShare func() float64) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_http_requests_total", Help: "HTTP requests by method, route (path template) and status code.",
		}, []string{"method", "route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "herald_http_request_duration_seconds", Help: "HTTP request latency by method, route (path template) and status code.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route", "code"}),
		storeWrite: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "herald_store_write_duration_seconds", Help: "Synced Pebble commit latency by operation.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"op"}),
	}
	m.batchSize = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "herald_vendor_batch_size", Help: "Tokens per vendor request.",
		Buckets: []float64{1, 2, 5, 10, 50, 100, 250, 500, 1000},
	}, []string{"vendor"})
	m.sendTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "herald_vendor_send_duration_seconds", Help: "Vendor request latency.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"vendor"})
	m.inboxDropped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "herald_inbox_dropped_total", Help: "Inbox entries dropped by the per-user cap or retention.",
	})
	m.reg.MustRegister(m.requests, m.latency, m.storeWrite, m.batchSize, m.sendTime, m.inboxDropped,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "herald_user_actors_active", Help: "Live (activated) user actors.",
		}, activeUsers),
		newSenderCollector(senders),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "herald_storage_free_bytes", Help: "Free space in data_dir (available to the daemon).",
		}, func() float64 { return float64(space().Free) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "herald_storage_min_free_bytes", Help: "min_free_space: below it writes that add data are refused (0 = not watched).",
		}, func() float64 { return float64(space().MinFree) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "herald_storage_low", Help: "1 while data_dir's free space is below min_free_space (writes that add data get 507 storage_full).",
		}, func() float64 {
			if space().Low {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "herald_fanout_yield_share", Help: "Share of each vendor's max_in_flight that fan-out batches may fill (1 = all; less while chat traffic waits for the CPU: messages.fanout_yield).",
		}, yieldShare),
		newPebbleCollector(pebble),
		// The scheduler's metrics too: go_sched_latencies_seconds is how
		// long runnable goroutines waited for a CPU, which is where a
		// latency-sensitive accept goes when a fan-out saturates the box.
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsScheduler)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

func (m *metrics) observeRequest(method, route string, status int, d time.Duration) {
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(method, route, code).Inc()
	m.latency.WithLabelValues(method, route, code).Observe(d.Seconds())
}

func (m *metrics) observeStoreWrite(op string, d time.Duration) {
	m.storeWrite.WithLabelValues(op).Observe(d.Seconds())
}

func (m *metrics) observeBatch(kind vendors.Kind, size int, d time.Duration) {
	m.batchSize.WithLabelValues(string(kind)).Observe(float64(size))
	m.sendTime.WithLabelValues(string(kind)).Observe(d.Seconds())
}

// senderCollector exports every sender's counters at scrape time.
type senderCollector struct {
	stats func() map[vendors.Kind]actors.SenderSnapshot
	descs map[string]*prometheus.Desc
	// failedByCode, testPushes and receipts carry a second label (code,
	// result).
	failedByCode, testPushes, receipts *prometheus.Desc
}

var senderMetricHelp = map[string]string{
	"sent_total":           "Notifications the vendor accepted.",
	"failed_total":         "Notifications that reached no device for good: dead-lettered, or to a token the vendor declared invalid.",
	"invalid_total":        "Tokens the vendor declared invalid (unbound).",
	"rate_limited_total":   "Times a ready batch waited for the token bucket or the daily quota.",
	"retried_total":        "Notifications scheduled for another attempt.",
	"dead_total":           "Notifications dead-lettered: rejected, or a transient failure after retry.max_attempts (when set).",
	"expired_total":        "Notifications dropped because their message expired.",
	"queued":               "Notifications waiting in the sender.",
	"spilled":              "Notifications of group fan-outs waiting in the outbox on disk for room in the sender (limits.max_queued).",
	"in_flight":            "Notifications in requests to the vendor.",
	"daily_quota_left":     "Daily quota left; absent for a vendor without a quota (unlimited), as daily_quota_left is null in /v1/stats.",
	"breaker":              "The vendor's circuit breaker: 0 closed, 1 open (the vendor looks down: nothing is sent), 2 half-open (one probe batch).",
	"breaker_opened_total": "Times the circuit breaker opened.",
	"message_sent_total":   "Sent notifications that were a message's (not a call's): what arrival receipts are asked for where the vendor posts them.",
	"paused":               "1 while the sender is paused: the vendor refused our credentials, or answered with a redirect (a misconfigured endpoint or proxy).",
}

func newSenderCollector(stats func() map[vendors.Kind]actors.SenderSnapshot) *senderCollector {
	c := &senderCollector{stats: stats, descs: map[string]*prometheus.Desc{},
		failedByCode: prometheus.NewDesc("herald_vendor_failed_by_code_total",
			"failed_total by the vendor's code (at most 64 codes per vendor, then \"other\").", []string{"vendor", "code"}, nil),
		testPushes: prometheus.NewDesc("herald_vendor_test_pushes_total",
			"Test pushes (POST /v1/push/test) by verdict.", []string{"vendor", "result"}, nil),
		receipts: prometheus.NewDesc("herald_vendor_receipts_total",
			"Arrival receipt entries by what they counted as: delivered (a device the notification reached, counted once), duplicate (counted before), unmatched (no kept message).", []string{"vendor", "result"}, nil)}
	for name, help := range senderMetricHelp {
		c.descs[name] = prometheus.NewDesc("herald_vendor_"+name, help, []string{"vendor"}, nil)
	}
	return c
}

func (c *senderCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
	ch <- c.failedByCode
	ch <- c.testPushes
	ch <- c.receipts
}

func (c *senderCollector) Collect(ch chan<- prometheus.Metric) {
	for k, s := range c.stats() {
		v := string(k)
		counter := func(name string, x int64) {
			ch <- prometheus.MustNewConstMetric(c.descs[name], prometheus.CounterValue, float64(x), v)
		}
		gauge := func(name string, x int64) {
			ch <- prometheus.MustNewConstMetric(c.descs[name], prometheus.GaugeValue, float64(x), v)
		}
		counter("sent_total", s.Sent)
		counter("failed_total", s.Failed)
		counter("invalid_total", s.Invalid)
		counter("rate_limited_total", s.RateLimited)
		counter("retried_total", s.Retried)
		counter("dead_total", s.Dead)
		counter("expired_total", s.Expired)
		counter("message_sent_total", s.MessagesSent)
		gauge("queued", s.Queued)
		gauge("spilled", s.Spilled)
		gauge("in_flight", s.InFlight)
		if s.QuotaLeft >= 0 { // < 0: no quota, no series (one convention with /v1/stats' null)
			gauge("daily_quota_left", s.QuotaLeft)
		}
		gauge("paused", s.Paused)
		gauge("breaker", int64(s.Breaker))
		counter("breaker_opened_total", s.BreakerOpened)
		for code, n := range s.FailedByCode {
			ch <- prometheus.MustNewConstMetric(c.failedByCode, prometheus.CounterValue, float64(n), v, code)
		}
		for result, n := range map[string]int64{"sent": s.TestSent, "failed": s.TestFailed, "invalid_token": s.TestInvalid} {
			ch <- prometheus.MustNewConstMetric(c.testPushes, prometheus.CounterValue, float64(n), v, result)
		}
		for result, n := range map[string]int64{"delivered": s.Arrived, "duplicate": s.ArrivalDuplicates, "unmatched": s.ArrivalUnmatched} {
			ch <- prometheus.MustNewConstMetric(c.receipts, prometheus.CounterValue, float64(n), v, result)
		}
	}
}

// pebbleCollector exports what one read of Pebble's metrics per scrape
// gives: its memory outside the Go heap and its WAL fsync histogram (kept
// in nanoseconds, unnamed), re-exported in seconds.
type pebbleCollector struct {
	stats                    func() (store.PebbleStats, bool)
	cache, memtables, fsyncs *prometheus.Desc
}

func newPebbleCollector(stats func() (store.PebbleStats, bool)) *pebbleCollector {
	return &pebbleCollector{stats: stats,
		cache: prometheus.NewDesc("herald_store_block_cache_bytes",
			"Pebble's block cache in use (outside the Go heap; cache_size caps it).", nil, nil),
		memtables: prometheus.NewDesc("herald_store_memtable_bytes",
			"Pebble's memtables (outside the Go heap; about two of memtable_size, more while a flush runs).", nil, nil),
		fsyncs: prometheus.NewDesc("herald_store_wal_fsync_duration_seconds",
			"Pebble's WAL fsync latency: what every synced write (a 2xx) waits for, with the writes that share it.", nil, nil),
	}
}

func (c *pebbleCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.cache
	ch <- c.memtables
	ch <- c.fsyncs
}

func (c *pebbleCollector) Collect(ch chan<- prometheus.Metric) {
	st, ok := c.stats()
	if !ok {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.cache, prometheus.GaugeValue, float64(st.BlockCache))
	ch <- prometheus.MustNewConstMetric(c.memtables, prometheus.GaugeValue, float64(st.MemTables))
	var m dto.Metric
	if st.WALFsync == nil || st.WALFsync.Write(&m) != nil || m.GetHistogram() == nil {
		return
	}
	hist := m.GetHistogram()
	buckets := make(map[float64]uint64, len(hist.GetBucket()))
	for _, b := range hist.GetBucket() {
		buckets[b.GetUpperBound()/1e9] = b.GetCumulativeCount()
	}
	if hm, err := prometheus.NewConstHistogram(c.fsyncs, hist.GetSampleCount(), hist.GetSampleSum()/1e9, buckets); err == nil {
		ch <- hm
	}
}

// buildInfo is herald_build_info: 1, labelled with what is running
// (version, the commit it was built from when known, Go's version).
func buildInfo(version string) prometheus.Collector {
	if version == "" {
		version = "unknown"
	}
	revision := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, kv := range bi.Settings {
			if kv.Key == "vcs.revision" {
				revision = kv.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "herald_build_info", Help: "What is running: always 1, labelled version, revision and goversion.",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "goversion": runtime.Version()}})
	g.Set(1)
	return g
}
