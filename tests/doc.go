// Package tests holds the end-to-end tests: they build bin/softswitch, run
// it on free loopback ports, and drive it with clients nobody here wrote
// (sipp, and Go clients built on sipgo's parser, gobwas/ws and icholy/digest).
//
// A new test calls t.Parallel() and keeps to its own server, data
// directory, ports and (for iptables rules) loopback address: up to
// e2eParallel run at once. Only a test that loads the machine on purpose
// stays serial (serial tests run first, alone).
package tests
