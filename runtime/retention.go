package runtime

import (
	"slices"
	"sync"
)

// retention keeps snapshots of terminated actors up to a cap. Over the cap,
// clean stops are evicted first, oldest first; when only failures are left,
// the earliest failures are kept and the newest one is dropped, since the
// first failure usually explains the rest.
type retention struct {
	capacity int

	mu     sync.Mutex
	clean  []ActorInfo // FIFO from head
	head   int
	failed []ActorInfo
	byName map[string]ActorInfo
}

func newRetention(capacity int) *retention {
	return &retention{capacity: max(capacity, 0), byName: make(map[string]ActorInfo)}
}

func (r *retention) add(info ActorInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.capacity == 0 {
		return
	}
	if r.lenLocked() >= r.capacity {
		if r.head < len(r.clean) {
			r.evict(r.clean[r.head])
			r.clean[r.head] = ActorInfo{}
			r.head++
			if r.head > len(r.clean)/2 {
				r.clean = slices.Clone(r.clean[r.head:])
				r.head = 0
			}
		} else {
			return // only failures are retained: keep the earliest
		}
	}
	if info.Failed() {
		r.failed = append(r.failed, info)
	} else {
		r.clean = append(r.clean, info)
	}
	r.byName[info.Name] = info
}

// evict forgets the by-name entry when it is the evicted snapshot.
func (r *retention) evict(info ActorInfo) {
	if cur, ok := r.byName[info.Name]; ok && cur.Event != nil && info.Event != nil && cur.Event == info.Event {
		delete(r.byName, info.Name)
	}
}

func (r *retention) lenLocked() int { return len(r.clean) - r.head + len(r.failed) }

func (r *retention) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lenLocked()
}

func (r *retention) get(name string) (ActorInfo, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	info, ok := r.byName[name]
	return info, ok
}

// all returns every snapshot, ordered by end time.
func (r *retention) all() []ActorInfo {
	r.mu.Lock()
	out := make([]ActorInfo, 0, r.lenLocked())
	out = append(out, r.clean[r.head:]...)
	out = append(out, r.failed...)
	r.mu.Unlock()
	slices.SortStableFunc(out, func(a, b ActorInfo) int { return a.Event.Time.Compare(b.Event.Time) })
	return out
}
