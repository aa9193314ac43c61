package sipserver

import (
	"bytes"
	"strconv"
	"strings"
)

// rawResponse builds a stateless error response for a request that sipgo
// could not parse, copying the headers a client needs to match it (Via,
// From, To, Call-ID, CSeq) from the raw text. It returns nil when the data
// is not a request we can answer: a response, an ACK (never answered), or a
// request without a Via to send the answer along.
func rawResponse(data []byte, code int, reason, why string) []byte {
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	if len(lines) == 0 {
		return nil
	}
	// Anything but a response or an ACK may be answered, even with a broken
	// start line, as long as it carries a Via to answer along.
	start := strings.Fields(lines[0])
	if len(start) == 0 || strings.HasPrefix(start[0], "SIP/") || start[0] == "ACK" {
		return nil
	}
	var b strings.Builder
	b.WriteString("SIP/2.0 ")
	b.WriteString(strconv.Itoa(code))
	b.WriteByte(' ')
	b.WriteString(reason)
	b.WriteString("\r\n")
	haveVia := false
	for _, l := range lines[1:] {
		name, _, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "via", "v":
			haveVia = true
		case "from", "f", "to", "t", "call-id", "i", "cseq":
		default:
			continue
		}
		b.WriteString(sanitize(l))
		b.WriteString("\r\n")
	}
	if !haveVia {
		return nil
	}
	b.WriteString(`Warning: 399 softswitch "`)
	b.WriteString(strings.ReplaceAll(sanitize(why), `"`, `'`))
	b.WriteString("\"\r\nContent-Length: 0\r\n\r\n")
	return []byte(b.String())
}

// sanitize drops control characters so an echoed header cannot inject lines.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
