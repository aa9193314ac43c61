// Package mwi tells phones that voicemail is waiting: RFC 3842
// message-summary NOTIFYs on RFC 6665 subscriptions (a desk phone's lamp),
// and, optionally, unsolicited NOTIFYs to the registered devices of an
// extension that has no subscription.
//
// A SUBSCRIBE for Event: message-summary must be digest-authenticated by
// the extension it names (Request-URI user); the subscription is answered
// 200 and followed at once by a NOTIFY with the current counts, then by a
// NOTIFY whenever the mailbox changes, and by a final one (terminated)
// when it is ended with Expires: 0 or runs out.
package mwi
