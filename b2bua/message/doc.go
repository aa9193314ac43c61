// Package message routes SIP MESSAGE (RFC 3428, pager-mode instant
// messages) between extensions: an authenticated sender's MESSAGE goes to
// every registered device of the recipient (forked), or, with no device
// registered, is stored and delivered when one registers.
package message
