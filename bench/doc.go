// Package bench holds the benchmarks that cross package boundaries (the
// whole per-frame media path of a transcoded call, SRTP) and, in
// bench/sysbench, the system benchmark harness behind `make bench`.
// Nothing here is imported by the softswitch itself.
package bench
