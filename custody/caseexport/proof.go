package caseexport

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// logPosition is where a custody event's leaf sits in the transparency log, as its
// bundle entry's proof states it (unverified).
type logPosition struct {
	index  uint64
	origin string
}

// parseProofPosition reads the leaf index and the checkpoint's origin line from a C2SP
// tlog-proof (https://c2sp.org/tlog-proof). It checks neither the proof nor the
// checkpoint's signature: custody.Verify does.
func parseProofPosition(text string) (logPosition, error) {
	var pos logPosition
	head, checkpoint, ok := strings.Cut(text, "\n\n")
	if !ok {
		return pos, errors.New("malformed tlog-proof: no checkpoint")
	}
	lines := strings.Split(head, "\n")
	if lines[0] != "c2sp.org/tlog-proof@v1" {
		return pos, errors.New("malformed tlog-proof: missing c2sp.org/tlog-proof@v1 header")
	}
	lines = lines[1:]
	if len(lines) > 0 && strings.HasPrefix(lines[0], "extra ") {
		lines = lines[1:]
	}
	if len(lines) == 0 {
		return pos, errors.New("malformed tlog-proof: no index line")
	}
	v, ok := strings.CutPrefix(lines[0], "index ")
	if !ok {
		return pos, errors.New("malformed tlog-proof: no index line")
	}
	index, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return pos, fmt.Errorf("malformed tlog-proof index %q", v)
	}
	origin, _, _ := strings.Cut(checkpoint, "\n")
	if origin == "" {
		return pos, errors.New("malformed tlog-proof: checkpoint has no origin line")
	}
	return logPosition{index: index, origin: origin}, nil
}
