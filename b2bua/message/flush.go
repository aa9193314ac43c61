package message

import (
	"context"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/sipheader"
)

// AfterRegister wraps the REGISTER handler: once a REGISTER with
// credentials has been answered and its extension has a device
// registered, the extension's stored messages are delivered.
func (s *Service) AfterRegister(next sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		next(req, tx)
		if !sipheader.Has(req, "Authorization") || req.To() == nil {
			return // a challenge, or refused by the server's checks
		}
		s.Flush(req.To().Address.User)
	}
}

// Flush delivers ext's stored messages in the background, oldest first,
// when it has a device registered; a message a device did not answer stays
// stored (and stops the flush), one every device refused is dropped.
// One flush per extension runs at a time.
func (s *Service) Flush(ext string) {
	if s.cfg.NoStore || len(s.binds.Lookup(ext)) == 0 {
		return
	}
	s.mu.Lock()
	if s.closed || s.flushing[ext] || s.none[ext] {
		s.mu.Unlock()
		return
	}
	s.flushing[ext] = true
	s.flushers.Add(1)
	adds := s.adds
	s.mu.Unlock()
	go func() {
		defer s.flushers.Done()
		defer func() {
			s.mu.Lock()
			delete(s.flushing, ext)
			s.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s.flush(ctx, ext, adds)
	}()
}

// flush delivers ext's stored messages; adds is s.adds when it started.
func (s *Service) flush(ctx context.Context, ext string, adds uint64) {
	for range s.cfg.MaxPending/flushBatch + 1 { // bounded: at most MaxPending are stored
		msgs, err := s.st.PendingMessages(ctx, ext, flushBatch)
		if err != nil {
			s.log.Error("message: reading stored messages failed", "ext", ext, "error", err)
			return
		}
		if len(msgs) == 0 {
			s.markNone(ext, adds)
			return
		}
		for _, m := range msgs {
			code := s.Deliver(ctx, m)
			if code == 0 {
				s.log.Info("message: stored message not taken: kept", "ext", ext, "id", m.ID)
				return
			}
			if code != 200 { // refused by every device: it would block the others for ever
				s.log.Warn("message: stored message refused by the devices: dropped", "ext", ext, "id", m.ID, "status", code)
			}
			if err := s.st.DeleteMessage(ctx, m.ID); err != nil {
				s.log.Error("message: deleting a delivered message failed", "ext", ext, "id", m.ID, "error", err)
				return
			}
			if code == 200 {
				s.log.Info("message: stored message delivered", "ext", ext, "id", m.ID, "from", m.Sender)
			}
		}
		if len(msgs) < flushBatch {
			return
		}
	}
}

// Close stops new flushes and sends, and waits for those running (each
// bounded in time).
func (s *Service) Close() {
	s.mu.Lock()
	s.closed = true // no new flush
	s.mu.Unlock()
	s.flushers.Wait()
	s.mu.Lock()
	s.sendsClosed = true
	s.mu.Unlock()
	s.wg.Wait()
}

// markNone remembers that ext has no stored message, unless one was stored
// since adds was read.
func (s *Service) markNone(ext string, adds uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.adds == adds {
		s.none[ext] = true
	}
}
