package siptrace

import (
	"io"
	"log/slog"
	"testing"
	"time"
)

// What tracing costs a SIP message: nothing on (one atomic load), an
// observer on (metrics: the headers are read), and a HEP packet built.
func BenchmarkTrace(b *testing.B) {
	m := Message{Time: time.Now(), In: true, Transport: "wss", Local: "127.0.0.1:8443", Remote: "127.0.0.1:40000", Data: []byte(register)}
	b.Run("off", func(b *testing.B) {
		tr := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
		b.ReportAllocs()
		for b.Loop() {
			tr.Trace(m)
		}
	})
	b.Run("observer", func(b *testing.B) {
		tr := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
		n := 0
		tr.Observe(func(Message, Summary) { n++ })
		b.ReportAllocs()
		for b.Loop() {
			tr.Trace(m)
		}
	})
	b.Run("hep-encode", func(b *testing.B) {
		buf := make([]byte, 0, 2048)
		b.ReportAllocs()
		for b.Loop() {
			buf = EncodeHEP(buf[:0], m, 1, "pw", "reg-1")
		}
	})
}
