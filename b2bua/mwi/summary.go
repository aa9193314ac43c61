package mwi

import (
	"fmt"
	"strings"
)

// Summary is an RFC 3842 message-summary body for voice messages.
type Summary struct {
	Account string // "sip:1001@host"
	New     int
	Old     int
}

// ContentType is the body's MIME type.
const ContentType = "application/simple-message-summary"

// Body renders s: Messages-Waiting, Message-Account and Voice-Message.
func (s Summary) Body() []byte {
	waiting := "no"
	if s.New > 0 {
		waiting = "yes"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Messages-Waiting: %s\r\n", waiting)
	if s.Account != "" {
		fmt.Fprintf(&b, "Message-Account: %s\r\n", s.Account)
	}
	fmt.Fprintf(&b, "Voice-Message: %d/%d\r\n", s.New, s.Old)
	return []byte(b.String())
}

// ParseSummary reads a message-summary body (what a phone would): the
// Messages-Waiting status and the Voice-Message counts, when present.
func ParseSummary(body []byte) (waiting bool, s Summary, err error) {
	seen := false
	for _, line := range strings.Split(string(body), "\n") {
		name, value, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "messages-waiting":
			switch strings.ToLower(value) {
			case "yes":
				waiting = true
			case "no":
			default:
				return false, s, fmt.Errorf("mwi: Messages-Waiting: %q is neither yes nor no", value)
			}
			seen = true
		case "message-account":
			s.Account = value
		case "voice-message":
			counts, _, _ := strings.Cut(value, " ") // "2/8 (0/2)": urgent counts follow
			if _, err := fmt.Sscanf(counts, "%d/%d", &s.New, &s.Old); err != nil || s.New < 0 || s.Old < 0 {
				return false, s, fmt.Errorf("mwi: Voice-Message: %q: want new/old counts", value)
			}
		}
	}
	if !seen {
		return false, s, fmt.Errorf("mwi: no Messages-Waiting line")
	}
	return waiting, s, nil
}
