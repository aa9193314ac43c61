#!/bin/sh
# make-test-audio.sh: regenerate test-audio.wav (see README.md).
# Needs espeak-ng and sox. Output: mono, 16-bit PCM, 48000 Hz, under 12 s.
set -eu

cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

text="This is the softswitch test call. You will now hear a one kilohertz test tone."

# 1. Speech: espeak-ng (US English voice, 150 words per minute) writes 22050 Hz mono.
espeak-ng -v en-us -s 150 -w "$tmp/speech-raw.wav" "$text"

# 2. Speech to 48 kHz mono 16-bit, trimmed of leading/trailing silence,
#    peak-normalised to -3 dBFS, then 0.5 s of silence before the tone.
sox -D "$tmp/speech-raw.wav" -r 48000 -c 1 -b 16 "$tmp/speech.wav" \
	silence 1 0.01 0.1% reverse silence 1 0.01 0.1% reverse \
	rate -v 48000 gain -n -3 pad 0.2 0.5

# 3. Tone: 4 s of 1000 Hz sine, peak -12 dBFS, 5 ms fades against clicks.
sox -D -n -r 48000 -c 1 -b 16 "$tmp/tone.wav" \
	synth 4 sine 1000 gain -12 fade t 0.005 4 0.005

# 4. Join. -D: no dither, so the output depends only on the inputs.
sox -D "$tmp/speech.wav" "$tmp/tone.wav" -r 48000 -c 1 -b 16 -e signed-integer test-audio.wav

soxi test-audio.wav
