// Package metrics exposes the softswitch's Prometheus metrics (calls,
// setup time, registrations, SIP traffic, authentication failures and
// bans, rate-limit drops, trunks, dialplan errors, Go runtime and process)
// with prometheus/client_golang. It holds no global state: each Metrics
// has its own registry, fed by event methods and by functions read at
// scrape time.
package metrics
