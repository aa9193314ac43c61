package media

// RTPPayload returns the payload of an RTP packet whose header (hdrLen
// bytes, as parsed) is followed by the payload and, when padded, padding
// whose length is the last byte (RFC 3550 §5.1). ok is false when the
// padding count is zero or runs into the header.
func RTPPayload(pkt []byte, hdrLen int, padded bool) (payload []byte, ok bool) {
	end := len(pkt)
	if padded {
		if end == 0 {
			return nil, false
		}
		pad := int(pkt[end-1])
		if pad == 0 || hdrLen+pad > end {
			return nil, false
		}
		end -= pad
	}
	if hdrLen > end {
		return nil, false
	}
	return pkt[hdrLen:end], true
}
