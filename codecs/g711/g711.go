package g711

// EncodeULaw encodes pcm as µ-law into dst and returns
// n = min(len(dst), len(pcm)), the number of samples encoded.
func EncodeULaw(dst []byte, pcm []int16) int {
	n := min(len(dst), len(pcm))
	dst, pcm = dst[:n], pcm[:n]
	t := ulawEncTable
	for i, v := range pcm {
		dst[i] = t[uint16(v)>>2]
	}
	return n
}

// DecodeULaw decodes µ-law payload into dst and returns
// n = min(len(dst), len(payload)), the number of samples decoded.
func DecodeULaw(dst []int16, payload []byte) int {
	n := min(len(dst), len(payload))
	dst, payload = dst[:n], payload[:n]
	t := ulawDecTable
	for i, c := range payload {
		dst[i] = t[c]
	}
	return n
}

// EncodeALaw encodes pcm as A-law into dst and returns
// n = min(len(dst), len(pcm)), the number of samples encoded.
func EncodeALaw(dst []byte, pcm []int16) int {
	n := min(len(dst), len(pcm))
	dst, pcm = dst[:n], pcm[:n]
	t := alawEncTable
	for i, v := range pcm {
		dst[i] = t[uint16(v)>>4]
	}
	return n
}

// DecodeALaw decodes A-law payload into dst and returns
// n = min(len(dst), len(payload)), the number of samples decoded.
func DecodeALaw(dst []int16, payload []byte) int {
	n := min(len(dst), len(payload))
	dst, payload = dst[:n], payload[:n]
	t := alawDecTable
	for i, c := range payload {
		dst[i] = t[c]
	}
	return n
}
