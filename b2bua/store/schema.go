package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations holds the schema steps; migrations[i] brings the database from
// user_version i to i+1. Append new steps, never edit old ones.
func migrations() []string {
	return []string{
		// Version 1: initial schema.
		`
CREATE TABLE users (
	ext        TEXT    NOT NULL PRIMARY KEY,
	name       TEXT    NOT NULL DEFAULT '',
	realm      TEXT    NOT NULL DEFAULT '',
	ha1_md5    TEXT    NOT NULL DEFAULT '',
	ha1_sha256 TEXT    NOT NULL DEFAULT '',
	created_ms INTEGER NOT NULL
);

CREATE TABLE bindings (
	ext        TEXT    NOT NULL REFERENCES users(ext) ON DELETE CASCADE ON UPDATE CASCADE,
	contact    TEXT    NOT NULL,
	instance   TEXT    NOT NULL DEFAULT '',
	reg_id     INTEGER NOT NULL DEFAULT 0,
	transport  TEXT    NOT NULL DEFAULT '' COLLATE NOCASE,
	source     TEXT    NOT NULL DEFAULT '',
	call_id    TEXT    NOT NULL DEFAULT '',
	cseq       INTEGER NOT NULL DEFAULT 0,
	user_agent TEXT    NOT NULL DEFAULT '',
	expires_ms INTEGER NOT NULL,
	updated_ms INTEGER NOT NULL,
	PRIMARY KEY (ext, contact)
);
CREATE INDEX bindings_expires_ms ON bindings(expires_ms);
CREATE INDEX bindings_transport ON bindings(transport);

CREATE TABLE meta (
	key   TEXT NOT NULL PRIMARY KEY,
	value TEXT NOT NULL
);
`,
		// Version 2: call detail records.
		`
CREATE TABLE cdrs (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	call_id     TEXT    NOT NULL,
	caller      TEXT    NOT NULL DEFAULT '',
	destination TEXT    NOT NULL DEFAULT '',
	target      TEXT    NOT NULL DEFAULT '',
	start_ms    INTEGER NOT NULL,
	answer_ms   INTEGER NOT NULL DEFAULT 0,
	end_ms      INTEGER NOT NULL,
	cause       TEXT    NOT NULL DEFAULT '',
	sip_code    INTEGER NOT NULL DEFAULT 0,
	q850        INTEGER NOT NULL DEFAULT 0,
	side        TEXT    NOT NULL DEFAULT '',
	codec_a     TEXT    NOT NULL DEFAULT '',
	codec_b     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX cdrs_start_ms ON cdrs(start_ms);
CREATE INDEX cdrs_call_id ON cdrs(call_id);
`,
		// Version 3: a CDR is written when the call starts and updated as it
		// goes, so that a crash leaves a record. uid names the call's row;
		// rows written before have none and are all finished.
		`
ALTER TABLE cdrs ADD COLUMN uid        TEXT    NOT NULL DEFAULT '';
ALTER TABLE cdrs ADD COLUMN state      TEXT    NOT NULL DEFAULT 'ended';
ALTER TABLE cdrs ADD COLUMN updated_ms INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX cdrs_uid ON cdrs(uid) WHERE uid <> '';
CREATE INDEX cdrs_open ON cdrs(state) WHERE state IN ('ringing', 'up');
`,
		// Version 4 (vars): what the dialplan stored with call:set, as a
		// JSON object of strings.
		`
ALTER TABLE cdrs ADD COLUMN vars TEXT NOT NULL DEFAULT '{}';
`,
		// Version 5 (voicemail): one row per message; the audio is a file
		// under the data directory (path relative to it).
		`
CREATE TABLE voicemail (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	ext         TEXT    NOT NULL,
	caller      TEXT    NOT NULL DEFAULT '',
	caller_name TEXT    NOT NULL DEFAULT '',
	call_id     TEXT    NOT NULL DEFAULT '',
	created_ms  INTEGER NOT NULL,
	duration_ms INTEGER NOT NULL DEFAULT 0,
	path        TEXT    NOT NULL,
	heard       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX voicemail_ext ON voicemail(ext, id);
`,
		// Version 6: transfers. A call transferred (REFER) goes on in a new
		// record whose transferred_from is the uid of the record it came
		// from; that one ends with cause "transferred".
		`
ALTER TABLE cdrs ADD COLUMN transferred_from TEXT NOT NULL DEFAULT '';
CREATE INDEX cdrs_transferred_from ON cdrs(transferred_from) WHERE transferred_from <> '';
`,
		// Version 7 (messages): SIP MESSAGEs (RFC 3428) waiting for a
		// device of ext to register; deleted once delivered.
		`
CREATE TABLE messages (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	ext          TEXT    NOT NULL,
	sender       TEXT    NOT NULL DEFAULT '',
	content_type TEXT    NOT NULL DEFAULT '',
	body         BLOB    NOT NULL,
	created_ms   INTEGER NOT NULL
);
CREATE INDEX messages_ext ON messages(ext, id);
`,
		// Version 8 (call recording): the file a recorded call was
		// written to, as the server named it; '' when not recorded.
		`
ALTER TABLE cdrs ADD COLUMN recording TEXT NOT NULL DEFAULT '';
`,
		// Version 9 (call history): the stories `softswitch call show`
		// tells of recent calls (an encoded blob of the call's ladder, SDPs
		// and media counters), found by any of the call's legs' Call-IDs,
		// and pruned to the newest N.
		`
CREATE TABLE call_history (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	call_id    TEXT    NOT NULL UNIQUE,
	updated_ms INTEGER NOT NULL,
	story      BLOB    NOT NULL
);
CREATE TABLE call_history_legs (
	leg_call_id TEXT    NOT NULL PRIMARY KEY,
	history_id  INTEGER NOT NULL REFERENCES call_history(id) ON DELETE CASCADE
);
CREATE INDEX call_history_legs_history ON call_history_legs(history_id);
`,
		// Version 10 (cluster): the node that wrote a CDR, so that several
		// nodes share one table and each closes only its own calls cut by
		// a crash; '' for a single node.
		`
ALTER TABLE cdrs ADD COLUMN node TEXT NOT NULL DEFAULT '';
CREATE INDEX cdrs_node_open ON cdrs(node) WHERE state IN ('ringing', 'up');
`,
		// Version 11 (behind a proxy): the Path (RFC 3327) a registration
		// came through, as the header values joined by ", "; '' when direct.
		`
ALTER TABLE bindings ADD COLUMN path TEXT NOT NULL DEFAULT '';
`,
	}
}

// migrate brings the schema up to date. It runs in one transaction
// (SQLite: immediate; PostgreSQL: under an advisory lock), so concurrent
// Opens of the same database serialise and only one of them applies each
// step.
func migrate(ctx context.Context, db *sql.DB, pg bool) (err error) {
	steps := migrations()
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE via _txlock on SQLite
	if err != nil {
		return fmt.Errorf("store: migrate: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()

	version, err := schemaVersion(ctx, tx, pg)
	if err != nil {
		return fmt.Errorf("store: migrate: read schema version: %w", err)
	}
	if version > len(steps) {
		return fmt.Errorf("store: migrate: schema version %d is newer than supported version %d", version, len(steps))
	}
	if version == len(steps) {
		return tx.Commit()
	}
	for v := version; v < len(steps); v++ {
		step := steps[v]
		if pg {
			step = pgDDL(step) + pgExtra[v]
		}
		if _, err := tx.ExecContext(ctx, step); err != nil {
			return fmt.Errorf("store: migrate to version %d: %w", v+1, err)
		}
	}
	if err := setSchemaVersion(ctx, tx, pg, len(steps)); err != nil {
		return fmt.Errorf("store: migrate: set schema version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: migrate: commit: %w", err)
	}
	return nil
}
