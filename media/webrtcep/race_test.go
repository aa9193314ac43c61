//go:build race

package webrtcep

const raceEnabled = true
