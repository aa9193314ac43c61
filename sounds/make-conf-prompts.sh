#!/bin/sh
# make-conf-prompts.sh: regenerate the conference prompts (conf-*.wav for
# call:conference); see README.md. Needs espeak-ng and sox.
# Output: mono, 16-bit PCM, 8000 Hz, trimmed, peak -3 dBFS; the join and
# leave tones are 16000 Hz (the mixing rate) at -12 dBFS.
set -eu

cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# speak NAME TEXT: as in make-say-prompts.sh.
speak() {
	espeak-ng -v en-us -s 150 -w "$tmp/raw.wav" "$2"
	sox -D "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$1.wav" \
		silence 1 0.01 0.1% reverse silence 1 0.01 0.1% reverse \
		rate -v 8000 gain -n -3 pad 0.05 0.05
}

speak conf-pin "Please enter the conference PIN, followed by the pound key."
speak conf-bad-pin "That PIN is not correct."
speak conf-pin-failed "Too many wrong PINs. Goodbye."
speak conf-full "This conference is full. Goodbye."
speak conf-locked "This conference is locked. Goodbye."
speak conf-alone "You are the only participant in this conference."
speak conf-muted "You are muted."
speak conf-unmuted "You are no longer muted."
speak conf-lock-on "The conference is now locked."
speak conf-lock-off "The conference is now unlocked."
speak conf-not-moderator "Only the moderator can lock the conference."
speak conf-kicked "You have been removed from the conference. Goodbye."

# join: 0.12 s of 600 Hz then 0.12 s of 900 Hz (rising); leave: falling.
# Peak -12 dBFS, 5 ms fades, 16 kHz.
tones() {
	sox -D -n -r 16000 -c 1 -b 16 -e signed-integer "$tmp/a.wav" synth 0.12 sine "$2" gain -12 fade t 0.005 0.12 0.005
	sox -D -n -r 16000 -c 1 -b 16 -e signed-integer "$tmp/b.wav" synth 0.12 sine "$3" gain -12 fade t 0.005 0.12 0.005
	sox -D "$tmp/a.wav" "$tmp/b.wav" "$1.wav"
}
tones conf-join 600 900
tones conf-leave 900 600
