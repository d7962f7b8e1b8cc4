package report

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/evidencegw/evidencegw/custody"
)

// checked explains, check by check, what the verification established.
func checked(r *custody.Report, verr error, meta Meta) []checkView {
	views := []checkView{
		signatureCheck(r),
		actorCheck(r),
		chainCheck(r),
		logCheck(r),
		contentCheck(r, verr, meta),
		witnessCheck(r, verr, meta),
	}
	const explain = "Every event of an exhibit leaves a tagged leaf in the public log that only holders of its bundle can recognise. Scanning a snapshot of the whole log (whose leaves must add up to a checkpoint signed by the pinned log key) shows whether the bundle left any event out. Checkpoints of several bundles must describe one and the same append-only log."
	if len(meta.LogChecks) > 0 {
		views = append(views, checkView{Title: "Completeness and consistency of the log", Status: meta.LogCheckStatus,
			Explain: explain, Result: meta.LogChecks})
	} else {
		views = append(views, checkView{Title: "Completeness and consistency of the log", Status: "info", Explain: explain,
			Result: []string{"Not checked: the bundle alone cannot show that no later event was left out. Verify it with a snapshot of the log (evidencegw log snapshot, then --log-snapshot) to check."}})
	}
	return views
}

// actorCheck says which events their actors signed with their own keys, and which
// downloads no signed receipt acknowledges.
func actorCheck(r *custody.Report) checkView {
	c := checkView{Title: "Actors' own signatures and receipts",
		Explain: "A member who asks for a change of custody (registering, sharing, revoking, accepting, holding, acknowledging a download) signs it with their own key, certified by their agency's CA listed in the trust root. Each signature names the exhibit, the grant and the action, and was checked at the event's time. After a download, the member signs a receipt of the digest received."}
	var signed, unsigned int
	for _, ve := range r.Events {
		switch {
		case ve.Act != nil:
			signed++
		case custody.ActActions(ve.Event.Action) && ve.Verified():
			unsigned++
		}
	}
	c.Status = "ok"
	c.Result = append(c.Result, fmt.Sprintf("%d event(s) carry their actor's own verified signature.", signed))
	if unsigned > 0 {
		c.Status = "info"
		c.Result = append(c.Result, fmt.Sprintf("%d event(s) of an actor carry no signature of the actor's own (recorded before actors signed their acts): they rest on the gateway's signature alone.", unsigned))
	}
	if u := r.Unreceived(); len(u) > 0 {
		c.Status = "warn"
		c.Result = append(c.Result, fmt.Sprintf("Download event(s) %v: NOT RECEIVED, no signed receipt of what was delivered arrived.", u))
	}
	for _, ve := range r.Events {
		delivered := ve.Event.Action == custody.ActionDownload || ve.Event.Action == custody.ActionDownloadDeliver
		if rc := ve.Received; delivered && rc != nil && !rc.Matches {
			c.Status = "warn"
			c.Result = append(c.Result, fmt.Sprintf("Download event %d: the member signed that it received SHA-256 %s, not the registered digest.", ve.Event.Seq, rc.SHA256))
		}
	}
	return c
}

// witnessCheck says whether independent witnesses cosigned the checkpoints.
func witnessCheck(r *custody.Report, verr error, meta Meta) checkView {
	c := checkView{Title: "Independent witnesses",
		Explain: "Witnesses are independent parties that cosign the log's checkpoints, so the log operator cannot show different histories to different people."}
	var required []string
	if meta.TrustRoot != nil && meta.TrustRoot.Witnesses.Quorum > 0 {
		w := meta.TrustRoot.Witnesses
		required = append(required, fmt.Sprintf("at least %d of the %d witnesses pinned in the trust root", w.Quorum, len(w.Keys)))
	}
	if p := meta.WitnessPolicy; p != nil && p.RequiresWitnesses() {
		required = append(required, fmt.Sprintf("the witnesses of the verifier's own witness policy (%d named, file SHA-256 %s)", len(p.Witnesses()), meta.WitnessPolicySHA256))
	}
	if len(required) == 0 {
		c.Status, c.Result = "info", []string{"Not checked: neither the trust root nor a witness policy of the verifier requires witness cosignatures."}
		return c
	}
	if verr != nil {
		c.Status, c.Result = "fail", []string{fmt.Sprintf("Not established: the verification failed (every checkpoint must be cosigned by %s).", strings.Join(required, " and by "))}
		return c
	}
	c.Status, c.Result = "ok", []string{fmt.Sprintf("Every checkpoint carries valid cosignatures of %s.", strings.Join(required, " and of "))}
	return c
}

// failed lists the events that failed, with their reasons.
func failed(r *custody.Report) []string {
	var out []string
	for i, ve := range r.Events {
		if !ve.Verified() {
			out = append(out, fmt.Sprintf("Event #%d FAILED: %s", i, ve.Failure))
		}
	}
	return out
}

func signatureCheck(r *custody.Report) checkView {
	c := checkView{Title: "Signatures against the pinned keys",
		Explain: "Each custody event is a statement signed by the gateway. Every signature was checked with the public keys pinned in the trust root (below), and the key had to be valid at the time of the event. An accepted transfer also carries the receiving agency's own signature (its receipt), checked against its certificate."}
	byKey := map[string]int{}
	signed, receipts := 0, 0
	for _, ve := range r.Events {
		if ve.KeyID != "" {
			signed++
			byKey[ve.KeyID]++
		}
		if ve.KeyID != "" && ve.Event.Receipt != nil {
			receipts++
		}
	}
	c.Status = status(signed == len(r.Events))
	c.Result = append(c.Result, fmt.Sprintf("%d of %d events carry a valid signature by a pinned key.", signed, len(r.Events)))
	for _, id := range slices.Sorted(maps.Keys(byKey)) {
		c.Result = append(c.Result, fmt.Sprintf("Key %s signed %d event(s).", id, byKey[id]))
	}
	if receipts > 0 {
		c.Result = append(c.Result, fmt.Sprintf("%d receipt(s) of the receiving agency verified.", receipts))
	}
	return c
}

func chainCheck(r *custody.Report) checkView {
	c := checkView{Title: "Hash chain",
		Explain: "Each event contains the SHA-256 digest of the event before it, and the first event registers the exhibit and its SHA-256. An event cannot be removed, inserted, reordered or altered without breaking the chain."}
	bad := failed(r)
	c.Status = status(len(bad) == 0)
	if len(bad) == 0 {
		c.Result = []string{fmt.Sprintf("Unbroken: all %d events are chained, from the registration of %s onwards.", len(r.Events), r.EvidenceID)}
	} else {
		c.Result = append([]string{"Not established for the whole record:"}, bad...)
	}
	return c
}

func logCheck(r *custody.Report) checkView {
	c := checkView{Title: "Inclusion in the transparency log",
		Explain: fmt.Sprintf("Each event is recorded in the append-only public log %q. For each one, a proof that it is included in the log was checked against a checkpoint (the log's size and root hash) signed by the log key pinned in the trust root. Two checkpoints of the same size with different roots would reveal a forked log.", r.Origin)}
	included := 0
	for _, ve := range r.Events {
		if ve.TreeSize > 0 {
			included++
		}
	}
	c.Status = status(included == len(r.Events))
	c.Result = []string{fmt.Sprintf("%d of %d events proven included in log %s.", included, len(r.Events), r.Origin)}
	for _, size := range slices.Sorted(maps.Keys(r.Checkpoints)) {
		c.Result = append(c.Result, fmt.Sprintf("Signed checkpoint of tree size %d:", size))
		c.Notes = append(c.Notes, strings.TrimRight(string(r.Checkpoints[size]), "\n"))
	}
	return c
}

func contentCheck(r *custody.Report, verr error, meta Meta) checkView {
	c := checkView{Title: "The evidence file itself",
		Explain: "The custody record describes the exhibit by its SHA-256 digest. Hashing a file and finding the same digest shows that this file is the registered exhibit, bit for bit."}
	switch {
	case r.ContentChecked:
		c.Status = "ok"
		c.Result = []string{fmt.Sprintf("The file %q was hashed: its SHA-256 is %s, the registered exhibit's.", meta.EvidenceName, r.SHA256)}
	case meta.EvidenceName != "" && verr != nil && len(failed(r)) == 0 && !errors.Is(verr, custody.ErrVerification):
		c.Status = "fail"
		c.Result = []string{fmt.Sprintf("The file %q could not be read to the end: %v", meta.EvidenceName, verr)}
	case meta.EvidenceName != "" && verr != nil && len(failed(r)) == 0:
		c.Status = "fail"
		c.Result = []string{fmt.Sprintf("The file %q was hashed and does NOT match the registered SHA-256 %s: %v", meta.EvidenceName, r.SHA256, verr)}
	case meta.EvidenceName != "":
		c.Status = "warn"
		c.Result = []string{fmt.Sprintf("The file %q was not hashed, because the custody record failed to verify.", meta.EvidenceName)}
	default:
		c.Status = "warn"
		c.Result = []string{"Not checked: no evidence file was given. This report establishes the custody record only; verify again with the evidence file to show a file is the exhibit."}
	}
	return c
}

func status(ok bool) string {
	if ok {
		return "ok"
	}
	return "fail"
}

func newTrustView(r *custody.Report, meta Meta) trustView {
	tr := meta.TrustRoot
	if tr == nil {
		return trustView{SHA256: meta.TrustRootSHA256}
	}
	v := trustView{Read: true, SHA256: meta.TrustRootSHA256, Origin: tr.Log.Origin,
		VerifierKey: tr.Log.VerifierKey, Quorum: tr.Witnesses.Quorum}
	for _, k := range tr.EventKeys {
		kv := keyView{ID: k.KeyID, Algorithm: k.Algorithm, Valid: "from " + formatTime(k.ValidFrom)}
		if k.ValidUntil != nil {
			kv.Valid += " until " + formatTime(*k.ValidUntil)
		}
		if r != nil {
			for _, ve := range r.Events {
				if ve.KeyID == k.KeyID {
					kv.Used++
				}
			}
		}
		v.Keys = append(v.Keys, kv)
	}
	return v
}
