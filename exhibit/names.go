package exhibit

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/evidencegw/evidencegw/custody"
)

// Every stored object is named here, and nowhere else (docs/storage.md):
//
//	content/<J>/<evidence id>/sealed                 the sealed content, in its owner's jurisdiction J
//	content/<J>/<evidence id>/datakey/<n:08>.json    version n of its wrapped data key
//	evidence/<evidence id>/events/<seq:08>.dsse      custody event seq, a DSSE envelope
//	evidence/<evidence id>/events/<seq:08>.index     its log index, decimal
//	requests/<request id>/events/<seq:08>.dsse       custody event seq of a request
//	requests/<request id>/events/<seq:08>.index      its log index, decimal
//	checkpoints/<tree size:020>                      a checkpoint the gateway signed
//	idempotency/<agency>/<key hash>/<n:04>.json      attempt n of an upload under an idempotency key
//	quarantine/<evidence id>.json                    an orphan upload found by Sweep
//	trust-root/<version:08>.json                     a trust root version (trustroot.go)
//	trust-root/<version:08>.change.json              its logged change, from version 2 on
//
// and the scratch records of resumable uploads in progress (storage.Scratch, deleted
// when the upload ends), in the owner's jurisdiction J:
//
//	uploads/<J>/<upload id>/session.json             the upload's session
//	uploads/<J>/<upload id>/parts/<n:08>.json         part n, durable, and the state after it
//	uploads/<J>/<upload id>/registered.json           the evidence it registered
//
// Zero-padded numbers make the bytewise order of a listing the numeric order.

const (
	contentPrefix    = "content/"
	evidencePrefix   = "evidence/"
	checkpointPrefix = "checkpoints/"
	idempotencyRoot  = "idempotency/"
	quarantinePrefix = "quarantine/"
	uploadsPrefix    = "uploads/"
	requestPrefix    = "requests/"
)

// uploadsOf starts the records of the resumable uploads of jurisdiction j.
func uploadsOf(j string) string { return uploadsPrefix + j + "/" }

// uploadRecords starts the records of one resumable upload.
func uploadRecords(j, uploadID string) string { return uploadsOf(j) + uploadID + "/" }

func sessionName(j, uploadID string) string { return uploadRecords(j, uploadID) + "session.json" }

func registeredName(j, uploadID string) string { return uploadRecords(j, uploadID) + "registered.json" }

func partsPrefix(j, uploadID string) string { return uploadRecords(j, uploadID) + "parts/" }

func partName(j, uploadID string, n int) string {
	return fmt.Sprintf("%s%08d.json", partsPrefix(j, uploadID), n)
}

// contentName is the sealed content of an exhibit, kept in its owner's jurisdiction.
func contentName(jurisdiction, id string) string {
	return contentPrefix + jurisdiction + "/" + id + "/sealed"
}

// dataKeyPrefix starts the names of an exhibit's wrapped data keys.
func dataKeyPrefix(jurisdiction, id string) string {
	return contentPrefix + jurisdiction + "/" + id + "/datakey/"
}

// dataKeyName is version n of an exhibit's wrapped data key; a rotation writes the next
// version, never overwriting one.
func dataKeyName(jurisdiction, id string, n int) string {
	return fmt.Sprintf("%s%08d.json", dataKeyPrefix(jurisdiction, id), n)
}

// parseDataKeyName returns the evidence id and version of a data-key name under the
// content of jurisdiction.
func parseDataKeyName(jurisdiction, name string) (id string, n int, ok bool) {
	rest, ok := strings.CutPrefix(name, contentPrefix+jurisdiction+"/")
	if !ok {
		return "", 0, false
	}
	id, file, ok := strings.Cut(rest, "/datakey/")
	if !ok || len(file) != 8+len(".json") || !strings.HasSuffix(file, ".json") {
		return "", 0, false
	}
	if _, err := fmt.Sscanf(file, "%08d.json", &n); err != nil {
		return "", 0, false
	}
	return id, n, true
}

// eventsPrefix starts the names of a custody subject's events: an exhibit's, or a
// request's (custody.ValidRequestID).
func eventsPrefix(id string) string {
	if custody.ValidRequestID(id) {
		return requestPrefix + id + "/events/"
	}
	return evidencePrefix + id + "/events/"
}

// parseRequestID returns the request id of an object stored under requests/.
func parseRequestID(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, requestPrefix)
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, "/")
	return id, ok && custody.ValidRequestID(id)
}

func eventName(id string, seq uint64) string {
	return fmt.Sprintf("%s%08d.dsse", eventsPrefix(id), seq)
}

func indexName(id string, seq uint64) string {
	return fmt.Sprintf("%s%08d.index", eventsPrefix(id), seq)
}

// parseEvidenceID returns the evidence id of an object stored under evidence/.
func parseEvidenceID(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, evidencePrefix)
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, "/")
	return id, ok && id != ""
}

// parseEventName returns the sequence number of an event name of exhibit id.
func parseEventName(id, name string) (uint64, bool) {
	file, ok := strings.CutPrefix(name, eventsPrefix(id))
	if !ok || len(file) != 8+len(".dsse") || !strings.HasSuffix(file, ".dsse") {
		return 0, false
	}
	seq, err := strconv.ParseUint(file[:8], 10, 64)
	return seq, err == nil
}

func quarantineName(id string) string { return quarantinePrefix + id + ".json" }

func checkpointName(size uint64) string { return fmt.Sprintf("%s%020d", checkpointPrefix, size) }

// ContentJurisdiction returns the jurisdiction whose store keeps the named object (or
// the scratch record of an upload in progress), and false for objects kept in the
// custody store (events, checkpoints). storage.Router
// routes with it, so evidence content never leaves its jurisdiction by accident.
func ContentJurisdiction(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, contentPrefix)
	if !ok {
		// The records of an upload in progress live beside its content.
		if rest, ok = strings.CutPrefix(name, uploadsPrefix); !ok {
			return "", false
		}
	}
	j, _, _ := strings.Cut(rest, "/")
	return j, true
}
