package custody

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"time"
)

// ActorSignature is what Verify established about the act an event records: who
// signed it, with a certificate of which CA.
type ActorSignature struct {
	// Subject is the signer's certificate subject (RFC 4514), Fingerprint the hex
	// SHA-256 of that certificate, CA the subject of the agency CA it chains to.
	Subject     string
	Fingerprint string
	CA          string
	// Digest is the hex SHA-256 of the signed act statement; Time when it was signed.
	Digest string
	Time   time.Time
	// Act is the signed act.
	Act Act
}

// Acknowledgement is the received event that acknowledges a download.
type Acknowledgement struct {
	Seq uint64
	// SHA256 and Size are what the partner says it received; Matches reports whether
	// SHA256 is the registered digest.
	SHA256  string
	Size    int64
	Matches bool
}

// Unreceived returns the sequence numbers of the downloads no received event
// acknowledges: first-release download events and download-deliver events.
func (r *Report) Unreceived() []uint64 {
	var out []uint64
	for _, ve := range r.Events {
		if (ve.Event.Action == ActionDownload || ve.Event.Action == ActionDownloadDeliver) && ve.Verified() && ve.Received == nil {
			out = append(out, ve.Event.Seq)
		}
	}
	return out
}

// markDelivered gives each download-deliver event the acknowledgement of its
// transfer, which a received act names by one of the transfer's start or resume
// events, before or after the delivery.
func (r *Report) markDelivered() {
	for i := range r.Events {
		if ve := &r.Events[i]; ve.Event.Action == ActionDownloadDeliver && ve.Received == nil {
			ve.Received = r.acknowledgementBefore(len(r.Events), ve)
		}
	}
}

// acknowledgementBefore returns the received event, among the events before i, that
// acknowledges the download ve is part of: its own for a first-release download
// event; for an event of a transfer, the acknowledgement of any of its events.
func (r *Report) acknowledgementBefore(i int, ve *VerifiedEvent) *Acknowledgement {
	if ve.Received != nil || ve.Event.Transfer == nil {
		return ve.Received
	}
	for j := range r.Events[:i] {
		e := &r.Events[j]
		if e.Received != nil && e.Event.Transfer != nil && e.Event.Transfer.ID == ve.Event.Transfer.ID {
			return e.Received
		}
	}
	return nil
}

// Acknowledgeable reports whether a received act may name an event of action a: a
// first-release download event, or the start or resume event of a download transfer
// (the act then acknowledges the transfer).
func Acknowledgeable(a Action) bool {
	return a == ActionDownload || a == ActionDownloadStart || a == ActionDownloadResume
}

// checkActor checks the actor's own signature on event i, where there is one: the act
// it records (verifyAct) or the receipt of a first-release accept event (checkReceipt).
// acts holds the digests of the acts of the events before it.
func (r *Report) checkActor(i int, ve *VerifiedEvent, tr *TrustRoot, acts map[string]uint64) error {
	ev := ve.Event
	if ev.Receipt != nil {
		if err := r.checkReceipt(ve, tr); err != nil {
			return err
		}
	}
	if ev.Act == nil {
		return nil
	}
	if !ActActions(ev.Action) {
		return failf("a %s event carries an act, which only a member's change of custody does", ev.Action)
	}
	agency, ok := tr.agency(ev.Actor.Agency)
	if !ok {
		return failf("the trust root lists no CA for agency %s: the actor's signature cannot be checked", ev.Actor.Agency)
	}
	va, err := VerifyAct(*ev.Act, agency.cas, ev.Time)
	if err != nil {
		return failf("the actor's signature does not verify: %v", err)
	}
	if err := CheckActEvent(va.Statement, ev, r.SHA256); err != nil {
		return failf("the actor's act does not name this event: %v", err)
	}
	if err := CheckActTime(va.Statement.Predicate, ev.Time); err != nil {
		return failf("%v", err)
	}
	if prev, dup := acts[va.Digest]; dup {
		return failf("records the same act as event %d: an act is recorded once", prev)
	}
	acts[va.Digest] = ev.Seq
	if ev.Action == ActionReceived {
		if err := r.acknowledge(i, ve, va); err != nil {
			return err
		}
	}
	ve.Act = &ActorSignature{Subject: va.Signer.Subject.String(), Fingerprint: fingerprint(va.Signer),
		CA: va.Chain[len(va.Chain)-1].Subject.String(), Digest: va.Digest, Time: va.Statement.Predicate.Time, Act: va.Statement.Predicate}
	ve.Checks = append(ve.Checks, fmt.Sprintf("signed by the actor %s with a certificate of %s's CA (%s), valid at the event's time; the act names this %s",
		ve.Act.Subject, ev.Actor.Agency, ve.Act.CA, ev.Action))
	return nil
}

// acknowledge checks that a received event acknowledges an earlier download by the same
// agency, once, and marks that download received.
func (r *Report) acknowledge(i int, ve *VerifiedEvent, va VerifiedAct) error {
	a := va.Statement.Predicate
	for j := range r.Events[:i] {
		d := &r.Events[j]
		if d.Digest != a.Download {
			continue
		}
		switch {
		case !Acknowledgeable(d.Event.Action):
			return failf("acknowledges event %d, a %s, not a download", d.Event.Seq, d.Event.Action)
		case d.Event.Actor.Agency != ve.Event.Actor.Agency:
			return failf("acknowledges the download of event %d by another agency", d.Event.Seq)
		}
		if prev := r.acknowledgementBefore(i, d); prev != nil {
			return failf("acknowledges the download of event %d, which event %d already acknowledged", d.Event.Seq, prev.Seq)
		}
		sha := va.Statement.SHA256()
		d.Received = &Acknowledgement{Seq: ve.Event.Seq, SHA256: sha, Size: a.Size, Matches: sha == r.SHA256}
		return nil
	}
	return failf("acknowledges download %s, which is no earlier event of this chain", a.Download)
}

// receiptStatement is the statement of a first-release receipt (evidencegw-receipt/v1).
type receiptStatement struct {
	Type       string    `json:"_type"`
	EvidenceID string    `json:"evidence_id"`
	GrantID    string    `json:"grant_id"`
	SHA256     string    `json:"sha256"`
	Time       time.Time `json:"time"`
}

// checkReceipt checks what the receipt of an accept event says: this evidence, grant
// and registered digest; and, when the trust root lists the actor's agency, that its
// certificate chains to that agency's CA at the event's time. (Its signature was
// checked with the event's.)
func (r *Report) checkReceipt(ve *VerifiedEvent, tr *TrustRoot) error {
	ev, rc := ve.Event, ve.Event.Receipt
	var st receiptStatement
	if err := decodeStrict(rc.Statement, &st); err != nil || st.Type != "evidencegw-receipt/v1" {
		return failf("the partner's receipt statement is malformed")
	}
	if ev.Grant == nil || st.EvidenceID != ev.EvidenceID || st.GrantID != ev.Grant.ID || st.SHA256 != r.SHA256 {
		return failf("the partner's receipt does not name this evidence, grant and registered digest")
	}
	agency, ok := tr.agency(ev.Actor.Agency)
	if !ok {
		if len(tr.Agencies) > 0 {
			return failf("the trust root lists no CA for agency %s: the receipt's certificate cannot be checked", ev.Actor.Agency)
		}
		ve.Checks = append(ve.Checks, "the receipt names this evidence, grant and digest; the trust root lists no agency CA, so the receipt's certificate was not checked")
		return nil
	}
	if _, _, err := verifyActChain([][]byte{rc.Certificate}, agency.cas, ev.Time); err != nil {
		return failf("the partner's receipt: %v", err)
	}
	ve.Checks = append(ve.Checks, fmt.Sprintf("the receipt names this evidence, grant and digest, and its certificate chains to %s's CA", ev.Actor.Agency))
	return nil
}

// fingerprint is the hex SHA-256 of a certificate.
func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}
