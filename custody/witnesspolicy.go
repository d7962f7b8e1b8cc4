package custody

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// MaxWitnessPolicySize bounds an encoded witness policy.
const MaxWitnessPolicySize = 64 << 10

// maxPolicyWitnesses bounds how many witnesses a policy may name.
const maxPolicyWitnesses = 256

// WitnessPolicy says which witnesses must cosign a checkpoint for it to count. Its text
// is the Sigsum policy format (https://git.glasklar.is/sigsum/core/sigsum-go/-/blob/main/doc/policy.md)
// with C2SP signed-note verifier keys for witnesses, as Tessera reads it
// (tessera.NewWitnessGroupFromPolicy), so that one file configures a gateway's log and a
// court's verifier alike. docs/bundle.md specifies it:
//
//	# comment
//	log <vkey> [<url>]                  ignored: the trust root names the log
//	witness <name> <vkey> [<url>]       a witness: cosignature/v1 (0x04) or Ed25519 (0x01) vkey
//	group <name> <k|any|all> <member>…  satisfied when k of its members are
//	quorum <name|none>                  the component every checkpoint must satisfy
//
// Members must be defined before the group that names them; names are unique and no
// keyword; two witnesses may not share a key (one key would count twice).
//
// A WitnessPolicy is immutable and safe for concurrent use.
type WitnessPolicy struct {
	witnesses []PolicyWitness
	quorum    policyNode // nil: quorum none
	text      string
}

// PolicyWitness is one witness of a policy.
type PolicyWitness struct {
	// Name is the policy's name for the witness (not the name in its cosignatures).
	Name string
	// VerifierKey is its C2SP signed-note verifier key; URL where it is reached, if given.
	VerifierKey string
	URL         string

	verifier note.Verifier
}

// Verifier returns the witness's cosignature/v1 verifier.
func (w PolicyWitness) Verifier() note.Verifier { return w.verifier }

// policyNode is a witness or a group: satisfied reports whether the cosignatures in
// sigs (the signatures note.Open verified) satisfy it. A group may be a member of
// several later groups, so the nodes form a DAG: memo keeps each group's answer, so
// that evaluating a policy costs one visit per member, not one per path.
type policyNode interface {
	satisfied(sigs []note.Signature, memo map[*groupNode]bool) bool
}

type witnessNode struct{ v note.Verifier }

func (w witnessNode) satisfied(sigs []note.Signature, _ map[*groupNode]bool) bool {
	for _, s := range sigs {
		if s.Name == w.v.Name() && s.Hash == w.v.KeyHash() {
			return true
		}
	}
	return false
}

type groupNode struct {
	k       int
	members []policyNode
}

func (g *groupNode) satisfied(sigs []note.Signature, memo map[*groupNode]bool) bool {
	if ok, done := memo[g]; done {
		return ok
	}
	n := 0
	for _, m := range g.members {
		if m.satisfied(sigs, memo) {
			n++
		}
	}
	memo[g] = n >= g.k
	return memo[g]
}

var policyKeywords = map[string]bool{"log": true, "witness": true, "group": true, "quorum": true, "any": true, "all": true, "none": true}

// ParseWitnessPolicy parses a witness policy (see WitnessPolicy).
func ParseWitnessPolicy(b []byte) (*WitnessPolicy, error) {
	if len(b) > MaxWitnessPolicySize {
		return nil, fmt.Errorf("witness policy of %d bytes exceeds %d", len(b), MaxWitnessPolicySize)
	}
	p := &WitnessPolicy{text: string(b)}
	nodes := map[string]policyNode{}
	keys := map[string]string{}
	quorum := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		err := func() error {
			switch f[0] {
			case "log":
				if len(f) < 2 || len(f) > 3 {
					return errors.New("want: log <vkey> [<url>]")
				}
				return nil
			case "witness":
				return p.addWitness(f, nodes, keys)
			case "group":
				return addGroup(f, nodes)
			case "quorum":
				if len(f) != 2 || quorum != "" {
					return errors.New("want one line: quorum <name|none>")
				}
				quorum = f[1]
				return nil
			}
			return fmt.Errorf("unknown keyword %q", f[0])
		}()
		if err != nil {
			return nil, fmt.Errorf("witness policy line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading witness policy: %w", err)
	}
	switch quorum {
	case "":
		return nil, errors.New("witness policy: no quorum line")
	case "none":
		return p, nil
	}
	q, ok := nodes[quorum]
	if !ok {
		return nil, fmt.Errorf("witness policy: quorum %q is not a witness or group", quorum)
	}
	p.quorum = q
	return p, nil
}

func (p *WitnessPolicy) addWitness(f []string, nodes map[string]policyNode, keys map[string]string) error {
	if len(f) < 3 || len(f) > 4 {
		return errors.New("want: witness <name> <vkey> [<url>]")
	}
	if err := newName(f[1], nodes); err != nil {
		return err
	}
	if len(p.witnesses) >= maxPolicyWitnesses {
		return fmt.Errorf("more than %d witnesses", maxPolicyWitnesses)
	}
	v, err := witnessVerifier(f[2])
	if err != nil {
		return fmt.Errorf("witness %s: verifier key %q: %w", f[1], f[2], err)
	}
	id := fmt.Sprintf("%s+%08x", v.Name(), v.KeyHash())
	if other, dup := keys[id]; dup {
		return fmt.Errorf("witnesses %s and %s have the same key", other, f[1])
	}
	keys[id] = f[1]
	w := PolicyWitness{Name: f[1], VerifierKey: f[2], verifier: v}
	if len(f) == 4 {
		u, err := url.Parse(f[3])
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("witness %s: URL %q is not an http(s) URL", f[1], f[3])
		}
		w.URL = f[3]
	}
	p.witnesses = append(p.witnesses, w)
	nodes[f[1]] = witnessNode{v}
	return nil
}

func addGroup(f []string, nodes map[string]policyNode) error {
	if len(f) < 4 {
		return errors.New("want: group <name> <k|any|all> <member> [<member> ...]")
	}
	if err := newName(f[1], nodes); err != nil {
		return err
	}
	g := &groupNode{}
	seen := map[string]bool{}
	for _, m := range f[3:] {
		n, ok := nodes[m]
		if !ok || seen[m] {
			return fmt.Errorf("group %s: member %q is undefined or repeated", f[1], m)
		}
		seen[m] = true
		g.members = append(g.members, n)
	}
	switch f[2] {
	case "any":
		g.k = 1
	case "all":
		g.k = len(g.members)
	default:
		k, err := strconv.ParseUint(f[2], 10, 8)
		if err != nil || k == 0 || int(k) > len(g.members) {
			return fmt.Errorf("group %s: threshold %q is not 1 to %d", f[1], f[2], len(g.members))
		}
		g.k = int(k)
	}
	nodes[f[1]] = g
	return nil
}

func newName(name string, nodes map[string]policyNode) error {
	if policyKeywords[name] {
		return fmt.Errorf("name %q is a keyword", name)
	}
	if _, dup := nodes[name]; dup {
		return fmt.Errorf("name %q defined twice", name)
	}
	return nil
}

// Witnesses returns the policy's witnesses, in the order of the file.
func (p *WitnessPolicy) Witnesses() []PolicyWitness {
	return append([]PolicyWitness(nil), p.witnesses...)
}

// Text returns the policy as it was parsed.
func (p *WitnessPolicy) Text() string { return p.text }

// RequiresWitnesses reports whether the policy's quorum is anything but none.
func (p *WitnessPolicy) RequiresWitnesses() bool { return p.quorum != nil }

// verifiers returns the cosignature verifiers of every witness of the policy.
func (p *WitnessPolicy) verifiers() []note.Verifier {
	vs := make([]note.Verifier, len(p.witnesses))
	for i, w := range p.witnesses {
		vs[i] = w.verifier
	}
	return vs
}

// Satisfied reports whether the verified signatures of a note (note.Open's n.Sigs,
// opened with at least this policy's verifiers) meet the policy's quorum.
func (p *WitnessPolicy) Satisfied(sigs []note.Signature) bool {
	return p.quorum == nil || p.quorum.satisfied(sigs, map[*groupNode]bool{})
}

// CheckCheckpoint verifies the witness cosignatures on a signed checkpoint note (the
// log's own signature is not checked here) and reports whether they meet the policy:
// nil, or an error wrapping ErrVerification that names the policy's witnesses that
// cosigned. Signatures by keys outside the policy are ignored.
func (p *WitnessPolicy) CheckCheckpoint(signed []byte) error {
	if p.quorum == nil {
		return nil
	}
	n, err := note.Open(signed, note.VerifierList(p.verifiers()...))
	var unverified *note.UnverifiedNoteError
	switch {
	case errors.As(err, &unverified):
		return failf("the checkpoint carries no cosignature of a witness of the policy")
	case err != nil:
		return failf("the checkpoint's cosignatures do not verify: %v", err)
	}
	if !p.Satisfied(n.Sigs) {
		return failf("the checkpoint's cosignatures (%s) do not meet the witness policy", p.cosigners(n.Sigs))
	}
	return nil
}

// cosigners names the witnesses of the policy among sigs.
func (p *WitnessPolicy) cosigners(sigs []note.Signature) string {
	var names []string
	for _, w := range p.witnesses {
		if (witnessNode{w.verifier}).satisfied(sigs, nil) {
			names = append(names, w.Name)
		}
	}
	if len(names) == 0 {
		return "none of its witnesses"
	}
	return strings.Join(names, ", ")
}

// minWitnesses returns the least number of distinct witnesses that can satisfy the
// policy: 1 for a witness, the sum of its k smallest members' for a group of
// threshold k.
func (p *WitnessPolicy) minWitnesses() int {
	if p.quorum == nil {
		return 0
	}
	// A witness shared by several members counts once: never more than there are.
	return min(minNode(p.quorum, map[*groupNode]int{}), len(p.witnesses))
}

// minNode is minWitnesses of one node; memo keeps each group's figure (see
// policyNode). The figure counts a witness once per path: it is the least number of
// cosignatures that can satisfy the node when no witness is shared between its
// members, an upper bound otherwise.
func minNode(n policyNode, memo map[*groupNode]int) int {
	g, ok := n.(*groupNode)
	if !ok {
		return 1
	}
	if v, done := memo[g]; done {
		return v
	}
	m := make([]int, len(g.members))
	for i, c := range g.members {
		m[i] = minNode(c, memo)
	}
	slices.Sort(m)
	sum := 0
	for _, x := range m[:g.k] {
		sum += x
		if sum > math.MaxInt32 { // a DAG can double the count at every level
			sum = math.MaxInt32
		}
	}
	memo[g] = sum
	return sum
}

// witnessVerifier returns the cosignature/v1 verifier of a witness verifier key
// (name+hash+base64(alg || key)) with formats/note, after checking the key hash that
// formats/note takes on trust: for an Ed25519 note key (alg 0x01) through its
// conversion to the cosignature/v1 key (0x04), which checks it; for a cosignature/v1
// key against the hash of the key itself.
func witnessVerifier(vkey string) (note.Verifier, error) {
	_, rest, _ := strings.Cut(vkey, "+")
	hash16, _, _ := strings.Cut(rest, "+")
	hash, err := strconv.ParseUint(hash16, 16, 32)
	if err != nil || len(hash16) != 8 {
		return nil, fmt.Errorf("%w: key hash %q is not 8 hex digits", errWitnessKey, hash16)
	}
	cosigKey := vkey
	if c, err := fnote.VKeyToCosignatureV1(vkey); err == nil {
		cosigKey = c
	}
	v, err := fnote.NewVerifierForCosignatureV1(cosigKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errWitnessKey, err)
	}
	if cosigKey == vkey && uint32(hash) != v.KeyHash() {
		return nil, fmt.Errorf("%w: key hash %s does not match the key", errWitnessKey, hash16)
	}
	return v, nil
}

var errWitnessKey = errors.New("malformed witness verifier key")

// CheckCosignatures checks that a signed checkpoint carries the witness cosignatures
// the trust root requires (its quorum and, if it has one, its policy); nil if it
// requires none. The log's own signature is not checked here.
func (tr *TrustRoot) CheckCosignatures(signed []byte) error {
	w := tr.Witnesses
	if w.Quorum == 0 && w.policy == nil {
		return nil
	}
	n, err := note.Open(signed, note.VerifierList(w.verifiers...))
	var unverified *note.UnverifiedNoteError
	switch {
	case errors.As(err, &unverified):
		return failf("the checkpoint carries no cosignature of a witness of the trust root")
	case err != nil:
		return failf("the checkpoint's cosignatures do not verify: %v", err)
	}
	if got := tr.witnessCount(n); got < w.Quorum {
		return failf("the checkpoint is cosigned by %d trusted witnesses, the trust root requires %d", got, w.Quorum)
	}
	if w.policy != nil && !w.policy.Satisfied(n.Sigs) {
		return failf("the checkpoint does not meet the trust root's witness policy (cosigned by %s)", w.policy.cosigners(n.Sigs))
	}
	return nil
}
