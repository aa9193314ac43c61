#!/bin/sh
# make-moh.sh: regenerate moh.wav, the bundled music on hold (see README.md).
# Needs sox. Output: mono, 16-bit PCM, 16000 Hz, 4 s: a C major arpeggio
# (C5 523.25 Hz, E5 659.25 Hz, G5 783.99 Hz, E5) of 0.5 s notes, twice,
# each note a sine at -15 dBFS with 20 ms fades. Generated, so royalty-free.
# The notes keep clear of the tests' tones (440 Hz and 1000 Hz).
set -eu

cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

i=0
for round in 1 2; do
	for f in 523.25 659.25 783.99 659.25; do
		i=$((i + 1))
		# -D: no dither, so the output depends only on these parameters.
		sox -D -n -r 16000 -c 1 -b 16 "$tmp/$i.wav" synth 0.5 sine "$f" gain -15 fade t 0.02 0.5 0.02
	done
done
sox -D "$tmp"/1.wav "$tmp"/2.wav "$tmp"/3.wav "$tmp"/4.wav "$tmp"/5.wav "$tmp"/6.wav "$tmp"/7.wav "$tmp"/8.wav \
	-r 16000 -c 1 -b 16 -e signed-integer moh.wav

soxi moh.wav
