package policy

import "testing"

// FuzzParseInstruments: the instrument table is a file an operator writes; whatever it
// holds, parsing it never panics, and a table it accepts has valid ids and durations.
func FuzzParseInstruments(f *testing.F) {
	f.Add(defaultInstruments)
	f.Add([]byte(`{"media_type": "application/vnd.evidencegw.instruments.v1+json", "instruments": []}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ins, err := parseInstruments(data)
		if err != nil {
			return
		}
		for _, in := range ins.All() {
			if !instrumentIDRe.MatchString(in.ID) || in.Deadline <= 0 || in.EmergencyDeadline < 0 || in.EmergencyDeadline > in.Deadline {
				t.Fatalf("accepted instrument %+v", in)
			}
			if got, ok := ins.Get(in.ID); !ok || got.ID != in.ID {
				t.Fatalf("instrument %s not found by its id", in.ID)
			}
		}
	})
}
