// Package api is the wire format of the gateway's HTTP API (docs/api.md,
// docs/openapi.yaml): the request and response bodies, RFC 9457 problem details, header
// names and the helpers that encode and decode header values. The gateway encodes its
// answers with these types and the client decodes them, so the two cannot drift apart.
//
// It imports only the custody formats (events, envelopes, grants) and the standard
// library: no HTTP server or client, no store, no key manager.
package api
