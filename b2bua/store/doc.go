// Package store is the persistence layer of the softswitch: SQLite (the
// embedded default) or PostgreSQL (several nodes sharing one database).
//
// It keeps four things in one database file:
//
//   - users: extensions with their digest HA1 hashes (MD5 and SHA-256),
//   - bindings: registered contacts per extension (the location service),
//     which are deleted together with their user,
//   - cdrs: one record per call, written as the call starts (ringing),
//     updated when it is answered (up) and when it ends (ended); a record
//     still open when the server starts again is of a call cut by a crash
//     and is closed as interrupted at the process's last heartbeat,
//   - meta: a small key-value table for process-wide settings.
//
// The file is opened in WAL mode with one writer connection and a separate
// pool of read-only connections, so the server and the operator CLI can use
// the same file at the same time. The schema is versioned with
// PRAGMA user_version and migrated by Open.
//
// PostgreSQL (OpenConfig with DriverPostgres) runs the same migrations,
// translated, with the version in a schema_version table; the few
// dialect differences are decided in dialect.go. CDRs carry the name of
// the node that wrote them, so that each node closes only its own calls
// cut by a crash. The package's tests run on both databases.
//
// All timestamps are stored as Unix milliseconds and returned in UTC; the
// zero time.Time is stored as 0 and read back as the zero time.Time.
package store
