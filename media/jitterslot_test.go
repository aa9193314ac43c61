package media

import (
	"bytes"
	"testing"
)

// A slot holds what its payloads need, not the largest possible payload:
// G.711 frames keep 256 bytes a slot; a larger payload grows its slot and
// comes back whole; a steady stream then allocates nothing.
func TestJitterSlotsSizedByPayload(t *testing.T) {
	j := NewArrivalBuffer(3)
	g711 := bytes.Repeat([]byte{0xd5}, 160)
	seq := uint16(1000)
	for range 8 {
		j.Push(seq, uint32(seq)*160, g711)
		if got, ok, _ := j.Pop(); !ok || !bytes.Equal(got, g711) {
			t.Fatalf("seq %d: Pop = %d bytes ok=%v, want the 160 pushed", seq, len(got), ok)
		}
		seq++
	}
	for i, s := range j.slots {
		if len(s.buf) > jitterSlotMin {
			t.Errorf("slot %d holds %d bytes after G.711 frames, want at most %d", i, len(s.buf), jitterSlotMin)
		}
	}
	big := make([]byte, JitterMaxPayload)
	for i := range big {
		big[i] = byte(i)
	}
	j.Push(seq, uint32(seq)*160, big)
	if got, ok, _ := j.Pop(); !ok || !bytes.Equal(got, big) {
		t.Fatalf("Pop = %d bytes ok=%v, want the %d pushed", len(got), ok, len(big))
	}
	seq++
	for range len(j.slots) { // every slot once at the larger size
		j.Push(seq, uint32(seq)*160, big[:1000])
		j.Pop()
		seq++
	}
	if a := testing.AllocsPerRun(100, func() {
		j.Push(seq, uint32(seq)*160, big[:1000])
		j.Pop()
		seq++
	}); a != 0 {
		t.Errorf("%v allocations per packet once the slots fit", a)
	}
}
