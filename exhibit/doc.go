// Package exhibit is the gateway's application layer: every use case of the exchange
// (register, share, accept, download, revoke, hold, release, bundle export, key
// rotation, the log's public reads), the state of an exhibit folded from its custody
// chain, the data-key records of sealed content, and the one place that names stored
// objects (names.go).
//
// A Service takes its collaborators as interfaces: the object store (storage.Store),
// the data keys (keys.DataKeys), the transparency log and event signer (ledger.Log,
// ledger.Signer) and the policy engine (Authorizer). It answers with the api package's
// views and returns errors the HTTP layer maps to statuses (errors.go).
//
// Requests for evidence under a legal instrument are custody subjects of their own
// (requests.go), and every event recorded, of an exhibit or a request, also refreshes
// the catalog (catalog.go), which the listings (listing.go) read through the policies.
//
// It may import custody, ledger, storage, keys, policy, catalog and api; it must not
// import
// gateway, client, cmd or any HTTP server or router: it knows no HTTP.
package exhibit
