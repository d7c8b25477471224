package api

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/souk-tiznit/souk/database"
)

// metrics are this server's Prometheus collectors, in a registry of its own
// so that several servers (in tests) do not collide.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(db *database.DB) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "souk_http_requests_total", Help: "HTTP requests by method, route pattern and status.",
	}, []string{"method", "route", "status"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "souk_http_request_duration_seconds", Help: "HTTP request latency by method and route pattern.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"method", "route"})
	m.reg.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if db != nil {
		stat := func(name, help string, f func() float64) prometheus.Collector {
			return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
		}
		m.reg.MustRegister(
			stat("souk_db_open_connections", "Open database connections.", func() float64 { return float64(db.Stats().OpenConnections) }),
			stat("souk_db_in_use_connections", "Database connections in use.", func() float64 { return float64(db.Stats().InUse) }),
			stat("souk_db_idle_connections", "Idle database connections.", func() float64 { return float64(db.Stats().Idle) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "souk_db_wait_count_total", Help: "Waits for a database connection."},
				func() float64 { return float64(db.Stats().WaitCount) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "souk_db_wait_seconds_total", Help: "Time spent waiting for a database connection."},
				func() float64 { return db.Stats().WaitDuration.Seconds() }),
		)
	}
	return m
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(method, route).Observe(d.Seconds())
}

func (m *metrics) handler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}
