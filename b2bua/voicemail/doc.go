// Package voicemail keeps the extensions' mailboxes: one WAV file per
// message under DATA/voicemail/EXT/ and one row per message in the store
// (caller, time, duration, heard). Every change is reported to a Notifier,
// which sends the RFC 3842 message-summary NOTIFYs (package mwi).
package voicemail
