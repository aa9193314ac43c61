// Package dialplantest tests dialplan scripts without SIP: FakeSession is
// a scripted dialplan.Session that records what the script did, and Run
// runs a script file against it.
//
//	s := dialplantest.NewFakeSession("1001", "1002")
//	s.Bridges = []dialplantest.BridgeResult{{Reason: "busy"}}
//	if err := dialplantest.Run(t, "scripts/dialplan.lua", s); err != nil { ... }
//	// s.Calls() == []string{"bridge user/1002 timeout=30s", "hangup busy"}
package dialplantest
