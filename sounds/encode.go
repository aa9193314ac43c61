package sounds

import "encoding/binary"

// EncodeWAV returns p as a RIFF/WAVE file: mono, 16-bit PCM at p.Rate.
// Tests use it to hand audio to external tools (sox, baresip's aufile).
func EncodeWAV(p *Prompt) []byte {
	dataLen := 2 * len(p.PCM)
	b := make([]byte, 0, riffHeaderLen+chunkHeaderLen+fmtMinLen+chunkHeaderLen+dataLen)
	le := binary.LittleEndian
	b = append(b, "RIFF"...)
	b = le.AppendUint32(b, uint32(4+chunkHeaderLen+fmtMinLen+chunkHeaderLen+dataLen))
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, fmtMinLen)
	b = le.AppendUint16(b, formatPCM)
	b = le.AppendUint16(b, 1)                // channels
	b = le.AppendUint32(b, uint32(p.Rate))   // sample rate
	b = le.AppendUint32(b, uint32(2*p.Rate)) // byte rate
	b = le.AppendUint16(b, 2)                // block align
	b = le.AppendUint16(b, 16)               // bits per sample
	b = append(b, "data"...)
	b = le.AppendUint32(b, uint32(dataLen))
	for _, v := range p.PCM {
		b = le.AppendUint16(b, uint16(v))
	}
	return b
}
