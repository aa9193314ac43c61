// Package audiotest measures audio in tests across the repository:
// Goertzel power at a frequency, the dominant frequency of a recording,
// its RMS level in dBFS, a Recorder sink that keeps what it is given, and
// DecodeOggOpus for recordings in Ogg (through libopusfile); and
// GoroutinesIn, which counts the goroutines running a function.
//
// Levels are relative to full scale: a sample of 32768 is 1.0, so a
// full-scale sine has an RMS level of -3.01 dBFS and a Goertzel power of 1.
package audiotest
