package policy

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"time"
)

// defaultInstruments is the instrument table used when Config.Instruments is empty
// (docs/exchange.md, "Instruments").
//
//go:embed instruments.json
var defaultInstruments []byte

// InstrumentsMediaType identifies version 1 of the instrument table.
const InstrumentsMediaType = "application/vnd.evidencegw.instruments.v1+json"

// maxInstrumentsFile bounds the instrument table read at start-up.
const maxInstrumentsFile = 1 << 20

// Instrument is a legal instrument a request, and the grants that answer it, rest on.
// The table is data: the policies decide on its attributes (docs/policy.md).
type Instrument struct {
	// ID names the instrument in requests and grants, such as "epoc".
	ID   string `json:"id"`
	Name string `json:"name"`
	// Law cites the instrument's legal source.
	Law string `json:"law"`
	// Kind is "production" (evidence is handed over) or "preservation" (evidence is
	// kept, not handed over).
	Kind string `json:"kind"`
	// Deadline is the time an addressee has to answer; EmergencyDeadline the time in an
	// emergency, zero when the instrument has no emergency procedure.
	Deadline          time.Duration `json:"-"`
	EmergencyDeadline time.Duration `json:"-"`
	// DeadlineSource and EmergencySource say where each time comes from.
	DeadlineSource  string `json:"deadline_source"`
	EmergencySource string `json:"emergency_source"`
	// AllowsDownload is false for an instrument under which content never leaves the
	// gateway (a preservation order).
	AllowsDownload bool `json:"allows_download"`
	// GrantDays is how long a grant made in answer lasts unless the answer says.
	GrantDays int `json:"grant_days"`
}

// Instruments is the table of known instruments. It is read-only once loaded.
type Instruments struct {
	list []Instrument
	byID map[string]*Instrument
}

var instrumentIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// LoadInstruments reads the instrument table from path, or the shipped one when path
// is "". Unknown fields, a duplicate or malformed id, a bad duration or an empty table
// are errors.
func LoadInstruments(path string) (*Instruments, error) {
	data, where := defaultInstruments, "embedded instrument table"
	if path != "" {
		var err error
		if data, err = readBounded(path, maxInstrumentsFile); err != nil {
			return nil, fmt.Errorf("reading instrument table: %w", err)
		}
		where = path
	}
	ins, err := parseInstruments(data)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", where, err)
	}
	return ins, nil
}

func readBounded(path string, limit int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return os.ReadFile(path)
}

// instrumentFile is the encoded table.
type instrumentFile struct {
	MediaType   string           `json:"media_type"`
	Instruments []instrumentJSON `json:"instruments"`
}

type instrumentJSON struct {
	Instrument
	Deadline          string `json:"deadline"`
	EmergencyDeadline string `json:"emergency_deadline"`
}

func parseInstruments(data []byte) (*Instruments, error) {
	var f instrumentFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	if f.MediaType != InstrumentsMediaType {
		return nil, fmt.Errorf("media_type %q, want %q", f.MediaType, InstrumentsMediaType)
	}
	if len(f.Instruments) == 0 {
		return nil, errors.New("no instrument")
	}
	ins := &Instruments{byID: map[string]*Instrument{}}
	for _, j := range f.Instruments {
		in, err := j.instrument()
		if err != nil {
			return nil, fmt.Errorf("instrument %q: %w", j.ID, err)
		}
		if _, dup := ins.byID[in.ID]; dup {
			return nil, fmt.Errorf("instrument %q listed twice", in.ID)
		}
		ins.list = append(ins.list, in)
		ins.byID[in.ID] = &ins.list[len(ins.list)-1]
	}
	for i := range ins.list { // the map points into the final slice
		ins.byID[ins.list[i].ID] = &ins.list[i]
	}
	return ins, nil
}

func (j instrumentJSON) instrument() (Instrument, error) {
	in := j.Instrument
	var err error
	switch {
	case !instrumentIDRe.MatchString(in.ID):
		return in, errors.New("id must be 1 to 40 lowercase letters, digits or '-'")
	case in.Name == "" || in.Law == "":
		return in, errors.New("name and law are required")
	case in.Kind != "production" && in.Kind != "preservation":
		return in, fmt.Errorf("kind %q is not production or preservation", in.Kind)
	case in.GrantDays <= 0:
		return in, errors.New("grant_days must be positive")
	}
	if in.Deadline, err = time.ParseDuration(j.Deadline); err != nil || in.Deadline <= 0 {
		return in, fmt.Errorf("deadline %q is not a positive duration such as 240h", j.Deadline)
	}
	if j.EmergencyDeadline != "" {
		if in.EmergencyDeadline, err = time.ParseDuration(j.EmergencyDeadline); err != nil || in.EmergencyDeadline <= 0 || in.EmergencyDeadline > in.Deadline {
			return in, fmt.Errorf("emergency_deadline %q is not a positive duration no longer than the deadline", j.EmergencyDeadline)
		}
	}
	return in, nil
}

// Get returns the instrument with the given id.
func (ins *Instruments) Get(id string) (Instrument, bool) {
	in, ok := ins.byID[id]
	if !ok {
		return Instrument{}, false
	}
	return *in, true
}

// All returns every instrument, in the table's order.
func (ins *Instruments) All() []Instrument {
	return append([]Instrument(nil), ins.list...)
}

// IDs returns the instrument ids, in the table's order.
func (ins *Instruments) IDs() []string {
	ids := make([]string, len(ins.list))
	for i, in := range ins.list {
		ids[i] = in.ID
	}
	return ids
}
