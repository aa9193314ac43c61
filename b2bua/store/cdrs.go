package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// CDR states. A call's row is written as it starts (ringing), updated when
// it is answered (up) and when it ends (ended). Rows still ringing or up
// when the process starts again belong to calls cut by a crash: they are
// closed as interrupted.
const (
	CDRRinging     = "ringing"
	CDRUp          = "up"
	CDREnded       = "ended"
	CDRInterrupted = "interrupted"
)

// CauseTransferred ends the record of a call its callee or caller
// transferred (REFER); the call goes on in a record naming it in
// TransferredFrom.
const CauseTransferred = "transferred"

// CauseInterrupted is the cause of a call cut by a crash of the process.
const CauseInterrupted = "interrupted"

// heartbeatKey is the meta key holding the last time (Unix ms) the
// process that writes CDRs was known alive.
const heartbeatKey = "cdr_heartbeat_ms"

// CDR is the record of one call.
type CDR struct {
	UID         string // names the call's row while it is updated; empty: insert a finished record
	State       string // CDRRinging, CDRUp, CDREnded (the default) or CDRInterrupted
	CallID      string
	Caller      string
	Destination string
	Target      string // the leg B target that answered (or was last tried)
	Start       time.Time
	Answer      time.Time // zero when never answered
	End         time.Time // zero while the call is up
	Cause       string    // hangup cause name ("normal", "busy", ...)
	SIPCode     int       // final SIP status sent to the caller (200 when answered)
	Q850        int
	Side        string // who hung up: "caller", "callee", "system"
	CodecA      string
	CodecB      string
	Vars        map[string]string // call:set in the dialplan; stored as a JSON object
	// TransferredFrom is the UID of the record of the call this one was
	// transferred from (REFER), or "".
	TransferredFrom string
	// Recording is the file the call was recorded to (a stereo WAV:
	// caller left, callee right), or "". A transferred call's records
	// share the file, which goes on.
	Recording string
	// Node is the node that handled the call (Config.Node of its
	// Store: set by SaveCDRs when empty); "" for a single node.
	Node string
}

// Duration is the billable time: from answer to end (zero while the call
// is up).
func (c CDR) Duration() time.Duration {
	if c.Answer.IsZero() || c.End.IsZero() {
		return 0
	}
	return c.End.Sub(c.Answer)
}

// Open reports whether the record is of a call in progress (or of one cut
// by a crash and not yet closed).
func (c CDR) Open() bool { return c.State == CDRRinging || c.State == CDRUp }

// saveCDRSQL inserts a record, or updates the row with the same uid unless
// that row is already further on (ringing < up < ended): a record never
// goes back, whatever order its writes arrive in.
const saveCDRSQL = `INSERT INTO cdrs (uid, state, updated_ms, call_id, caller, destination, target, start_ms, answer_ms, end_ms,
	cause, sip_code, q850, side, codec_a, codec_b, vars, transferred_from, recording, node) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (uid) WHERE uid <> '' DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms,
	call_id = excluded.call_id, caller = excluded.caller, destination = excluded.destination, target = excluded.target,
	start_ms = excluded.start_ms, answer_ms = excluded.answer_ms, end_ms = excluded.end_ms, cause = excluded.cause,
	sip_code = excluded.sip_code, q850 = excluded.q850, side = excluded.side, codec_a = excluded.codec_a, codec_b = excluded.codec_b,
	vars = excluded.vars, transferred_from = excluded.transferred_from, recording = excluded.recording, node = excluded.node
WHERE cdrs.state IN ('ringing', 'up') AND NOT (cdrs.state = 'up' AND excluded.state = 'ringing')`

// SaveCDRs writes records in one transaction: a record with a UID creates
// or updates that call's row, one without is inserted as it is.
func (s *Store) SaveCDRs(ctx context.Context, cdrs []CDR) error {
	if len(cdrs) == 0 {
		return nil
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: save cdrs: %w", err)
	}
	stmt, err := tx.PrepareContext(ctx, s.q(saveCDRSQL))
	if err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("store: save cdrs: %w", err)
	}
	defer stmt.Close()
	now := time.Now().UnixMilli()
	for _, c := range cdrs {
		state := c.State
		if state == "" {
			state = CDREnded
		}
		node := c.Node
		if node == "" {
			node = s.node
		}
		if _, err := stmt.ExecContext(ctx, c.UID, state, now, c.CallID, c.Caller, c.Destination, c.Target,
			toMillis(c.Start), toMillis(c.Answer), toMillis(c.End), c.Cause, c.SIPCode, c.Q850, c.Side,
			c.CodecA, c.CodecB, varsJSON(c.Vars), c.TransferredFrom, c.Recording, node); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("store: save cdr %q: %w", c.CallID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: save cdrs: %w", err)
	}
	return nil
}

const cdrColumns = `uid, state, call_id, caller, destination, target, start_ms, answer_ms, end_ms,
	cause, sip_code, q850, side, codec_a, codec_b, vars, transferred_from, recording, node`

// CDRs returns the last n records of finished calls (ended or
// interrupted; all when n <= 0), oldest first.
func (s *Store) CDRs(ctx context.Context, n int) ([]CDR, error) {
	var limit any = n
	if n <= 0 {
		limit = s.noLimit()
	}
	rows, err := s.reader.QueryContext(ctx, s.q(`SELECT `+cdrColumns+` FROM (SELECT * FROM cdrs
		WHERE state NOT IN ('ringing', 'up') ORDER BY id DESC LIMIT ?) AS last ORDER BY id`), limit)
	if err != nil {
		return nil, fmt.Errorf("store: cdrs: %w", err)
	}
	out, err := scanCDRs(rows)
	if err != nil {
		return nil, fmt.Errorf("store: cdrs: %w", err)
	}
	return out, nil
}

// CDRsOfCall returns the records (finished or not) of the call whose leg
// A had Call-ID callID, oldest first: more than one when it was
// transferred.
func (s *Store) CDRsOfCall(ctx context.Context, callID string) ([]CDR, error) {
	rows, err := s.reader.QueryContext(ctx, s.q(`SELECT `+cdrColumns+` FROM cdrs WHERE call_id = ? ORDER BY id`), callID)
	if err != nil {
		return nil, fmt.Errorf("store: cdrs of %s: %w", callID, err)
	}
	out, err := scanCDRs(rows)
	if err != nil {
		return nil, fmt.Errorf("store: cdrs of %s: %w", callID, err)
	}
	return out, nil
}

// OpenCDRs returns the records of calls in progress (ringing or up),
// oldest first. After a crash, and until the next start closes them, they
// include the calls the crash cut.
func (s *Store) OpenCDRs(ctx context.Context) ([]CDR, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT `+cdrColumns+` FROM cdrs
		WHERE state IN ('ringing', 'up') ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: open cdrs: %w", err)
	}
	out, err := scanCDRs(rows)
	if err != nil {
		return nil, fmt.Errorf("store: open cdrs: %w", err)
	}
	return out, nil
}

func scanCDRs(rows *sql.Rows) ([]CDR, error) {
	defer rows.Close()
	var out []CDR
	for rows.Next() {
		var c CDR
		var start, answer, end int64
		var vars string
		if err := rows.Scan(&c.UID, &c.State, &c.CallID, &c.Caller, &c.Destination, &c.Target, &start, &answer, &end,
			&c.Cause, &c.SIPCode, &c.Q850, &c.Side, &c.CodecA, &c.CodecB, &vars, &c.TransferredFrom, &c.Recording, &c.Node); err != nil {
			return nil, err
		}
		if vars != "" && vars != "{}" {
			if err := json.Unmarshal([]byte(vars), &c.Vars); err != nil {
				return nil, fmt.Errorf("cdr %q: vars: %w", c.CallID, err)
			}
		}
		c.Start, c.Answer, c.End = fromMillis(start), fromMillis(answer), fromMillis(end)
		out = append(out, c)
	}
	return out, rows.Err()
}

// SetCDRHeartbeat records that the process writing CDRs was alive at t:
// the end time given to the calls a crash cuts.
func (s *Store) SetCDRHeartbeat(ctx context.Context, t time.Time) error {
	if err := s.SetMeta(ctx, s.heartbeatKey(), fmt.Sprint(t.UnixMilli())); err != nil {
		return fmt.Errorf("store: cdr heartbeat: %w", err)
	}
	return nil
}

// CloseInterruptedCDRs closes every record still ringing or up as
// interrupted, ending at the last time the process was known alive (its
// heartbeat or the row's last update, whichever is later). Call it at start,
// before taking calls; only this node's records are closed (nodes sharing a
// database each close their own when they come back), so no other running
// process may write CDRs under the same node name. It returns how many
// records it closed.
func (s *Store) CloseInterruptedCDRs(ctx context.Context) (int64, error) {
	res, err := s.writer.ExecContext(ctx, s.q(s.pick(`UPDATE cdrs SET state = 'interrupted', cause = ?, side = 'system',
		sip_code = CASE WHEN answer_ms > 0 THEN 200 ELSE 0 END,
		end_ms = MAX(updated_ms, start_ms, answer_ms,
			COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?), 0)),
		updated_ms = ?
		WHERE state IN ('ringing', 'up') AND node = ?`,
		`UPDATE cdrs SET state = 'interrupted', cause = ?, side = 'system',
		sip_code = CASE WHEN answer_ms > 0 THEN 200 ELSE 0 END,
		end_ms = GREATEST(updated_ms, start_ms, answer_ms,
			COALESCE((SELECT CAST(value AS BIGINT) FROM meta WHERE key = ?), 0)),
		updated_ms = ?
		WHERE state IN ('ringing', 'up') AND node = ?`)),
		CauseInterrupted, s.heartbeatKey(), time.Now().UnixMilli(), s.node)
	if err != nil {
		return 0, fmt.Errorf("store: close interrupted cdrs: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: close interrupted cdrs: %w", err)
	}
	return n, nil
}

// varsJSON encodes a CDR's variables as a JSON object ("{}" for none).
func varsJSON(vars map[string]string) string {
	if len(vars) == 0 {
		return "{}"
	}
	b, err := json.Marshal(vars)
	if err != nil { // cannot happen for a map of strings
		return "{}"
	}
	return string(b)
}

// heartbeatKey is the meta key of this node's heartbeat.
func (s *Store) heartbeatKey() string {
	if s.node == "" {
		return heartbeatKey
	}
	return heartbeatKey + "/" + s.node
}

// noLimit is the LIMIT argument meaning all rows.
func (s *Store) noLimit() any {
	if s.pg {
		return nil // LIMIT NULL
	}
	return -1
}
