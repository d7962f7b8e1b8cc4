package caseexport

import (
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"strings"
)

// KBNamespace is the IRI the kb: prefix of the graph's node identifiers expands to. It
// names, and does not locate: nothing is served there.
const KBNamespace = "urn:evidencegw:kb:"

// uuidNamespace is the RFC 9562 name-space UUID of node names: the version 5 UUID of
// the URL "https://github.com/evidencegw/evidencegw/custody/caseexport" in the URL
// name space (TestUUIDNamespace recomputes it).
var uuidNamespace = [16]byte{0xda, 0x63, 0xcc, 0xc4, 0xa2, 0x4b, 0x5f, 0xd8, 0x9b, 0xd0, 0xea, 0xa4, 0x86, 0xa7, 0x4e, 0x58}

// nameUUID returns the version 5 UUID (RFC 9562, section 5.5) of name in namespace ns.
func nameUUID(ns [16]byte, name string) string {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	x := hex.EncodeToString(u[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// nodeID returns the IRI of the node of the given kind identified by parts, as
// "kb:<kind>-<uuid>". Each part is length-prefixed, so no two part lists share a name.
func nodeID(kind string, parts ...string) string {
	var b strings.Builder
	b.WriteString(kind)
	for _, p := range parts {
		b.WriteByte('\n')
		b.WriteString(strconv.Itoa(len(p)))
		b.WriteByte(':')
		b.WriteString(p)
	}
	return "kb:" + kind + "-" + nameUUID(uuidNamespace, b.String())
}
