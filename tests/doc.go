// Package tests holds the end-to-end tests: they build bin/softswitch, run
// it on free loopback ports, and drive it with clients nobody here wrote
// (sipp, and Go clients built on sipgo's parser, gobwas/ws and icholy/digest).
package tests
