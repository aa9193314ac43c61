// Package prompts is the prompt store: each prompt (embedded in the binary,
// in the configured prompt directory, or a WAV path) is decoded once, kept
// immutable and shared by every call that plays it; the version at each
// rate a leg asks for (8 kHz for G.711, 8/16/48 kHz for Opus) is made once,
// on first use, and shared too. A caller gets a *sounds.Prompt it must not
// modify and plays it with its own cursor (media.Player).
//
// Files are checked on use (modification time and size): a changed file is
// decoded afresh, while calls still playing the old version keep it. The
// PCM kept is bounded; the least recently used prompts are dropped first.
package prompts
