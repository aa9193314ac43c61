//go:build !race

package webrtcep

const raceEnabled = false
