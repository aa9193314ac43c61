#!/bin/sh
# make-say-prompts.sh: regenerate the short spoken prompts (say-*.wav for
# call:say_digits and call:say_number, vm-*.wav for voicemail, conf-*.wav
# for conferences, beep.wav, office-closed.wav); see README.md. Needs
# espeak-ng and sox.
# Output: mono, 16-bit PCM, 8000 Hz, trimmed, peak -3 dBFS; the conference
# join and leave tones are 16000 Hz (the mixing rate) at -12 dBFS.
set -eu

cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# speak NAME TEXT: espeak-ng (US English, 150 wpm) to NAME.wav at 8 kHz,
# leading and trailing silence trimmed, 50 ms of silence at both ends.
speak() {
	espeak-ng -v en-us -s 150 -w "$tmp/raw.wav" "$2"
	sox -D "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$1.wav" \
		silence 1 0.01 0.1% reverse silence 1 0.01 0.1% reverse \
		rate -v 8000 gain -n -3 pad 0.05 0.05
}

n=0
for w in zero one two three four five six seven eight nine ten eleven twelve \
	thirteen fourteen fifteen sixteen seventeen eighteen nineteen; do
	speak "say-$n" "$w"
	n=$((n + 1))
done
n=20
for w in twenty thirty forty fifty sixty seventy eighty ninety; do
	speak "say-$n" "$w"
	n=$((n + 10))
done
speak say-hundred "hundred"
speak say-thousand "thousand"
speak say-million "million"
speak say-minus "minus"

speak vm-greeting "The person you are calling is not available. Please leave a message after the tone, and press the pound key when you are done."
speak vm-you-have "You have"
speak vm-new-message "new message"
speak vm-new-messages "new messages"
speak vm-no-messages "You have no new messages."
speak vm-message "Message"
speak vm-menu "Press 1 to hear it again, 7 to delete it, or 9 for the next message."
speak vm-deleted "Message deleted."
speak vm-no-more "No more messages. Goodbye."
speak office-closed "Our office is closed. Please call again during office hours."

# beep: 0.4 s of 1400 Hz, peak -6 dBFS, 10 ms fades, then 0.1 s of silence.
sox -D -n -r 8000 -c 1 -b 16 -e signed-integer beep.wav \
	synth 0.4 sine 1400 gain -6 fade t 0.01 0.4 0.01 pad 0 0.1

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

# conf-join: 0.12 s of 600 Hz then 0.12 s of 900 Hz (rising); conf-leave:
# falling. Peak -12 dBFS, 5 ms fades, 16 kHz.
tones() {
	sox -D -n -r 16000 -c 1 -b 16 -e signed-integer "$tmp/a.wav" synth 0.12 sine "$2" gain -12 fade t 0.005 0.12 0.005
	sox -D -n -r 16000 -c 1 -b 16 -e signed-integer "$tmp/b.wav" synth 0.12 sine "$3" gain -12 fade t 0.005 0.12 0.005
	sox -D "$tmp/a.wav" "$tmp/b.wav" "$1.wav"
}
tones conf-join 600 900
tones conf-leave 900 600
