package exhibit

import (
	"container/list"
	"maps"
	"sync"
	"time"
)

// Folded states (docs/api.md, "Verified state"). Folding an exhibit's chain costs
// O(events): every stored event read, checked and replayed. A Service keeps the states
// it folded, so that a request reads only the events stored since (ledger.Extend: one
// read of the next event's name, answered "not found" when nothing changed) and replays
// only those. The cache is per process and never answers alone: every load asks the
// store for the events after the cached tip first, so a change made by another gateway
// (a revoke, the last download of a grant) is seen by the next request here, exactly as
// without the cache. Only chains that verified are kept; a damaged chain is loaded
// whole every time. A kept state is loaded whole again once it is older than the
// recheck interval, which re-reads and re-verifies every stored event (the verified
// cache of the ledger makes that a read of the bytes and a hash each): an event altered
// in the store after it was verified here freezes the exhibit then, at the latest.

// DefaultFoldCacheBytes is the default bound of the folded states a Service keeps, by
// their estimated size (foldWeight).
const DefaultFoldCacheBytes = 64 << 20

// DefaultChainRecheck is the default interval after which a kept folded state is
// loaded whole and verified again.
const DefaultChainRecheck = 5 * time.Minute

// foldCache is a least-recently-used cache of folded states by evidence id, bounded by
// the sum of their estimated sizes. Safe for concurrent use. The states it holds are
// never changed; get returns them for the caller to copy.
//
// hashicorp/golang-lru bounds the number of entries only, and one exhibit's state may be
// a thousand times another's: the weighted bound needs this small list.
type foldCache struct {
	max int64

	mu      sync.Mutex
	used    int64
	order   *list.List // of *foldEntry, most recently used first
	entries map[string]*list.Element
}

type foldEntry struct {
	id string
	st *state
	// checked is when the state was last folded from the whole chain.
	checked time.Time
	weight  int64
}

// newFoldCache returns a cache bounded to max bytes (estimated); nil if max < 0, which
// keeps nothing.
func newFoldCache(max int64) *foldCache {
	if max < 0 {
		return nil
	}
	if max == 0 {
		max = DefaultFoldCacheBytes
	}
	return &foldCache{max: max, order: list.New(), entries: map[string]*list.Element{}}
}

// get returns the kept state of id and when it was last folded whole.
func (c *foldCache) get(id string) (*state, time.Time, bool) {
	if c == nil {
		return nil, time.Time{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[id]
	if !ok {
		return nil, time.Time{}, false
	}
	c.order.MoveToFront(el)
	e := el.Value.(*foldEntry)
	return e.st, e.checked, true
}

// put keeps st, folded whole at checked, unless the cache holds a state of the same
// exhibit further along its chain. A state larger than the whole bound is not kept.
func (c *foldCache) put(st *state, checked time.Time) {
	if c == nil || st.damage != nil {
		return
	}
	w := foldWeight(st)
	if w > c.max {
		c.remove(st.id())
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[st.id()]; ok {
		e := el.Value.(*foldEntry)
		if e.st.tip.Head.Event.Seq > st.tip.Head.Event.Seq {
			return
		}
		c.used += w - e.weight
		e.st, e.weight = st, w
		if checked.After(e.checked) {
			e.checked = checked
		}
		c.order.MoveToFront(el)
	} else {
		c.entries[st.id()] = c.order.PushFront(&foldEntry{id: st.id(), st: st, checked: checked, weight: w})
		c.used += w
	}
	for c.used > c.max {
		last := c.order.Back()
		e := last.Value.(*foldEntry)
		c.order.Remove(last)
		delete(c.entries, e.id)
		c.used -= e.weight
	}
}

// remove forgets the state of id.
func (c *foldCache) remove(id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[id]; ok {
		c.order.Remove(el)
		delete(c.entries, id)
		c.used -= el.Value.(*foldEntry).weight
	}
}

// size returns the number of states kept and their estimated size.
func (c *foldCache) size() (int, int64) {
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.used
}

// Estimated sizes of what a folded state holds (measured with runtime.MemStats on
// states of long chains, rounded up): the register and head records with their
// envelopes count their bytes.
const (
	foldBaseBytes     = 1024
	foldRecordBytes   = 512
	foldActBytes      = 160
	foldReceivedBytes = 128
	foldDownloadBytes = 480
	foldGrantBytes    = 320
	foldTransferBytes = 160
)

// foldWeight estimates the bytes a folded state holds.
func foldWeight(st *state) int64 {
	rec := func(b int, env string) int64 { return int64(foldRecordBytes + b + len(env)) }
	return foldBaseBytes + rec(len(st.first.Statement), st.first.Envelope.Payload) +
		rec(len(st.tip.Head.Statement), st.tip.Head.Envelope.Payload) +
		int64(st.acts.len())*foldActBytes + int64(st.received.len())*foldReceivedBytes +
		int64(st.downloads.len())*foldDownloadBytes + int64(len(st.grants))*foldGrantBytes +
		int64(len(st.transfers))*foldTransferBytes
}

// layerLimit is the size at which a layered map's own part is merged into a new
// frozen base: a clone copies at most this many entries, and the merge, O(entries),
// happens once per layerLimit entries added.
const layerLimit = 128

// layered is a map from digests that a folded state shares with the states folded
// from it: a frozen base, shared and never written, and a small top of its own.
type layered[V any] struct {
	base map[string]V
	top  map[string]V
}

func (m layered[V]) get(k string) (V, bool) {
	if v, ok := m.top[k]; ok {
		return v, true
	}
	v, ok := m.base[k]
	return v, ok
}

func (m *layered[V]) set(k string, v V) {
	if m.top == nil {
		m.top = map[string]V{}
	}
	m.top[k] = v
}

func (m layered[V]) len() int { return len(m.base) + len(m.top) }

// clone returns a copy that may be written without changing m.
func (m layered[V]) clone() layered[V] {
	if len(m.top) < layerLimit {
		return layered[V]{base: m.base, top: maps.Clone(m.top)}
	}
	merged := make(map[string]V, len(m.base)+len(m.top))
	maps.Copy(merged, m.base)
	maps.Copy(merged, m.top)
	return layered[V]{base: merged}
}
