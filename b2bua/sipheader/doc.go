// Package sipheader finds headers of a sipgo message by name without
// allocating. sipgo's GetHeader and GetHeaders lower-case the name of
// every header they pass that is not one of a few common ones (a string
// allocated per header per lookup: issue 20 found them among the top
// allocations of a REGISTER); these compare names case-insensitively
// instead (RFC 3261 §7.3.1: header names are case-insensitive).
package sipheader
