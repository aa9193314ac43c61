package media

import (
	"encoding/binary"
	"strconv"
	"strings"
	"testing"
)

// jbScript runs ops against a buffer: "p5" pushes seq 5 (payload = seq),
// "o" pops and records the frame's seq, "L" for lost or "-" for nothing,
// "R" resets. It returns the recorded pops joined by spaces.
func jbScript(t *testing.T, j *JitterBuffer, ops string) string {
	t.Helper()
	var out []string
	for op := range strings.FieldsSeq(ops) {
		switch {
		case op == "o":
			p, ok, lost := j.Pop()
			switch {
			case ok && lost:
				t.Fatalf("ok and lost together")
			case ok:
				if len(p) != 2 {
					t.Fatalf("payload len %d", len(p))
				}
				out = append(out, strconv.Itoa(int(binary.BigEndian.Uint16(p))))
			case lost:
				out = append(out, "L")
			default:
				out = append(out, "-")
			}
		case op == "R":
			j.Reset()
		case op[0] == 'p':
			n, err := strconv.Atoi(op[1:])
			if err != nil {
				t.Fatalf("bad op %q", op)
			}
			var b [2]byte
			binary.BigEndian.PutUint16(b[:], uint16(n))
			j.Push(uint16(n), uint32(n)*160, b[:])
		default:
			t.Fatalf("bad op %q", op)
		}
		if j.Len() < 0 || j.Len() > j.Depth() {
			t.Fatalf("after %q: Len %d outside 0..%d", op, j.Len(), j.Depth())
		}
	}
	return strings.Join(out, " ")
}

func TestJitterBuffer(t *testing.T) {
	tests := []struct {
		name  string
		depth int
		ops   string
		want  string
		check func(t *testing.T, s JitterStats)
	}{
		{
			name: "in order", depth: 3,
			ops:  "o p1 o p2 o p3 o p4 o p5 o",
			want: "- - 1 2 3 4",
		},
		{
			name: "depth 1 plays at once", depth: 1,
			ops:  "p7 o p8 o p9 o",
			want: "7 8 9",
		},
		{
			name: "reordered within window", depth: 3,
			ops:  "p1 p2 o p4 p3 o o o",
			want: "1 2 3 4",
		},
		{
			name: "reordered before playout rewinds", depth: 3,
			ops:  "p2 p1 o o p3 o",
			want: "1 2 3",
		},
		{
			name: "duplicate", depth: 3,
			ops:  "p1 p1 p2 p2 o o p3 p3 o",
			want: "1 2 3",
			check: func(t *testing.T, s JitterStats) {
				if s.Duplicate != 3 {
					t.Errorf("Duplicate = %d, want 3", s.Duplicate)
				}
			},
		},
		{
			name: "loss", depth: 3,
			ops:  "p1 p2 o p4 o p5 o o p6 o",
			want: "1 2 L 4 5",
			check: func(t *testing.T, s JitterStats) {
				if s.Lost != 1 || s.Concealed != 1 {
					t.Errorf("Lost = %d, Concealed = %d, want 1, 1", s.Lost, s.Concealed)
				}
			},
		},
		{
			name: "wrap around 65535", depth: 3,
			ops:  "p65534 p65535 o p1 p0 o o o p2 o",
			want: "65534 65535 0 1 2",
		},
		{
			name: "late packet dropped", depth: 3,
			ops:  "p10 p11 o o p12 p10 p9 o",
			want: "10 11 12",
			check: func(t *testing.T, s JitterStats) {
				if s.Late != 2 {
					t.Errorf("Late = %d, want 2", s.Late)
				}
			},
		},
		{
			name: "late packet during underrun still plays", depth: 3,
			ops:  "p1 p2 o o o p3 p4 o o",
			want: "1 2 L 3 4",
		},
		{
			name: "stopped stream conceals depth ticks then goes quiet", depth: 3,
			ops:  "p1 p2 o o o o o o o p3 o p4 o o",
			want: "1 2 L L L - - - 3 4",
		},
		{
			name: "overflow slides window", depth: 3,
			ops:  "p1 p2 p3 p4 p5 p6 o o o o",
			want: "4 5 6 L",
			check: func(t *testing.T, s JitterStats) {
				if s.Dropped != 3 {
					t.Errorf("Dropped = %d, want 3", s.Dropped)
				}
			},
		},
		{
			name: "ssrc change resets", depth: 3,
			ops:  "p100 p101 o o R p7 o p8 o o",
			want: "100 101 - 7 8",
		},
		{
			name: "restart confirmed by a second packet", depth: 3,
			ops:  "p5000 p5001 o o p10 p11 p12 o o o",
			want: "5000 5001 11 12 L",
			check: func(t *testing.T, s JitterStats) {
				if s.Restarts != 1 || s.Late != 1 {
					t.Errorf("Restarts = %d, Late = %d, want 1, 1", s.Restarts, s.Late)
				}
			},
		},
		{
			name: "stray old packet does not restart", depth: 3,
			ops:  "p5000 p5001 o p10 p5002 o o",
			want: "5000 5001 5002",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := NewJitterBuffer(tt.depth)
			if got := jbScript(t, j, tt.ops); got != tt.want {
				t.Fatalf("ops %q:\n got %q\nwant %q", tt.ops, got, tt.want)
			}
			if tt.check != nil {
				tt.check(t, j.Stats())
			}
		})
	}
}

func TestJitterBufferAdaptive(t *testing.T) {
	j := NewJitterBuffer(3)
	var got []string
	push := func(seq uint16) {
		var b [2]byte
		binary.BigEndian.PutUint16(b[:], seq)
		j.Push(seq, 0, b[:])
		for j.Ready() {
			p, ok, lost := j.Pop()
			switch {
			case ok:
				got = append(got, strconv.Itoa(int(binary.BigEndian.Uint16(p))))
			case lost:
				got = append(got, "L")
			default:
				t.Fatal("Ready but Pop gave nothing")
			}
		}
		got = append(got, "|")
	}
	for _, s := range []uint16{1, 2, 3, 5, 4, 6, 8, 9, 10} {
		push(s)
	}
	want := "| 1 2 | 3 | | 4 5 | 6 | | L 8 9 | 10 |"
	if g := strings.Join(got, " "); g != want {
		t.Fatalf("got  %q\nwant %q", g, want)
	}
}

func TestJitterBufferLimits(t *testing.T) {
	if d := NewJitterBuffer(0).Depth(); d != 1 {
		t.Errorf("depth 0 -> %d, want 1", d)
	}
	if d := NewJitterBuffer(1000).Depth(); d != jitterMaxDepth {
		t.Errorf("depth 1000 -> %d, want %d", d, jitterMaxDepth)
	}
	j := NewJitterBuffer(1)
	j.Push(1, 0, make([]byte, JitterMaxPayload+1))
	if j.Len() != 0 || j.Stats().Dropped != 1 {
		t.Errorf("oversized payload kept: Len %d, %+v", j.Len(), j.Stats())
	}
	// Push copies: changing the caller's buffer does not change the frame.
	src := []byte{1, 2, 3}
	j.Push(2, 0, src)
	src[0] = 9
	if p, ok, _ := j.Pop(); !ok || p[0] != 1 {
		t.Errorf("Pop = %v, %v; want a copy", p, ok)
	}
}

func TestJitterBufferPeek(t *testing.T) {
	j := NewJitterBuffer(4)
	if _, ok := j.Peek(); ok {
		t.Fatal("Peek on an empty buffer")
	}
	push := func(seq uint16) { j.Push(seq, uint32(seq)*160, []byte{byte(seq)}) }
	peek := func() int {
		p, ok := j.Peek()
		if !ok {
			return -1
		}
		return int(p[0])
	}
	push(1)
	push(2)
	push(4)
	if got := peek(); got != 1 {
		t.Fatalf("Peek = %d, want 1", got)
	}
	if p, ok, _ := j.Pop(); !ok || p[0] != 1 || peek() != 2 {
		t.Fatalf("Pop %v %v then Peek %d, want 1 then 2", p, ok, peek())
	}
	j.Pop()
	if got := peek(); got != -1 {
		t.Fatalf("Peek at the gap = %d, want none", got)
	}
	// A loss: Peek gives the packet after the gap (for FEC); Pop still plays it.
	if _, ok, lost := j.Pop(); ok || !lost || peek() != 4 {
		t.Fatalf("Pop at the gap: ok %v lost %v, then Peek %d; want a loss, then 4", ok, lost, peek())
	}
	if p, ok, _ := j.Pop(); !ok || p[0] != 4 || peek() != -1 {
		t.Fatalf("Pop after the gap %v %v, Peek %d", p, ok, peek())
	}
}

func TestJitterBufferNoAllocs(t *testing.T) {
	j := NewJitterBuffer(3)
	payload := make([]byte, 160)
	var seq uint16
	allocs := testing.AllocsPerRun(1000, func() {
		j.Push(seq, uint32(seq)*160, payload)
		seq++
		j.Pop()
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per frame, want 0", allocs)
	}
}

func BenchmarkJitterBuffer(b *testing.B) {
	j := NewJitterBuffer(3)
	payload := make([]byte, 160)
	var seq uint16
	b.ReportAllocs()
	for b.Loop() {
		// Mild reordering: swap every fourth pair.
		s := seq
		if seq%4 == 1 {
			s = seq + 1
		} else if seq%4 == 2 {
			s = seq - 1
		}
		j.Push(s, uint32(s)*160, payload)
		seq++
		j.Pop()
	}
}
