package policy

import (
	"time"

	cedar "github.com/cedar-policy/cedar-go"
)

// Actions on a request (the resource is a Request entity).
const (
	ActionFileRequest        Action = "file-request"        // file a request (the resource is the new request)
	ActionViewRequest        Action = "view-request"        // read a request and its history
	ActionBundleRequest      Action = "bundle-request"      // export the request's custody bundle
	ActionAcknowledgeRequest Action = "acknowledge-request" // acknowledge receipt, as the addressee
	ActionRespondRequest     Action = "respond-request"     // answer: share exhibits, or refuse
	ActionWithdrawRequest    Action = "withdraw-request"    // withdraw, as the requester
)

// Request is what the policies need to know about a request for evidence.
type Request struct {
	ID string
	// From is the requesting agency, To the agency it is addressed to.
	From, To string
	// Instrument is the id of its legal instrument (Instruments).
	Instrument string
	Emergency  bool
	Deadline   time.Time
	// State is the request's state ("open", "acknowledged", "fulfilled",
	// "partially-fulfilled", "refused", "withdrawn").
	State string
}

// DecideRequest reports whether p may perform a on the request r at time now. It does
// no I/O. The request is visible to its two parties (and to whoever a policy allows);
// to anyone else it is not found.
func (e *Engine) DecideRequest(p Principal, a Action, r Request, now time.Time) Decision {
	if p.Agency == "" || r.From == "" || r.To == "" {
		return Decision{Errors: []string{errNoAgency.Error()}}
	}
	visible := p.Agency == r.From || p.Agency == r.To
	entities := cedar.EntityMap{}
	person := personEntity(p)
	entities[person.UID] = person
	for _, id := range []string{p.Agency, r.From, r.To} {
		entities[agencyUID(id)] = cedar.Entity{UID: agencyUID(id)}
	}
	e.addInstrument(entities, r.Instrument)
	uid := cedar.NewEntityUID("Request", cedar.String(r.ID))
	entities[uid] = cedar.Entity{UID: uid, Attributes: cedar.NewRecord(cedar.RecordMap{
		"from":       agencyUID(r.From),
		"to":         agencyUID(r.To),
		"instrument": instrumentUID(r.Instrument),
		"emergency":  cedar.Boolean(r.Emergency),
		"deadline":   cedar.Long(r.Deadline.Unix()),
		"state":      cedar.String(r.State),
	})}
	req := cedar.Request{
		Principal: person.UID,
		Action:    cedar.NewEntityUID("Action", cedar.String(a)),
		Resource:  uid,
		// The context of a request decision has no grant (exists is false), so
		// that the grant guards, which apply to every action, evaluate.
		Context: contextFor(nil, now, ""),
	}
	return e.evaluate(entities, req, nil, visible)
}

func instrumentUID(id string) cedar.EntityUID {
	return cedar.NewEntityUID("Instrument", cedar.String(id))
}

// addInstrument adds the entity of a known instrument. An unknown one stays absent: a
// policy that reads its attributes then fails, and the decision with it (fail closed).
func (e *Engine) addInstrument(m cedar.EntityMap, id string) {
	in, ok := e.instruments.Get(id)
	if !ok {
		return
	}
	uid := instrumentUID(id)
	m[uid] = cedar.Entity{UID: uid, Attributes: cedar.NewRecord(cedar.RecordMap{
		"kind":                cedar.String(in.Kind),
		"allows_download":     cedar.Boolean(in.AllowsDownload),
		"emergency_procedure": cedar.Boolean(in.EmergencyDeadline > 0),
		"emergency_seconds":   cedar.Long(int64(in.EmergencyDeadline / time.Second)),
		"deadline_seconds":    cedar.Long(int64(in.Deadline / time.Second)),
	})}
}

// addInstruments adds the entities of the instruments of grants.
func (e *Engine) addInstruments(m cedar.EntityMap, grants []Grant) {
	for _, g := range grants {
		if g.Instrument != "" {
			e.addInstrument(m, g.Instrument)
		}
	}
}

// Instruments returns the instrument table the engine decides with.
func (e *Engine) Instruments() *Instruments { return e.instruments }
