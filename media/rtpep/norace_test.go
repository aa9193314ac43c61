//go:build !race

package rtpep

const raceEnabled = false
