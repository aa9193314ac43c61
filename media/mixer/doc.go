// Package mixer is the conference mixer: a Room runs one 20 ms clock and,
// on each tick, takes one frame from every Member, picks the loudest few
// talkers above a threshold, and sends each member the sum of the others
// (N-1), through a soft limiter, at the member's own rate.
//
// Members write their received audio into the room at their leg's rate
// (Member is a media.Sink); the room mixes at one rate (16 kHz by
// default, so browsers on Opus hear wideband) and resamples to and from
// each member's rate with media.Resampler (8 kHz for G.711 phones). A
// tick allocates nothing.
package mixer
