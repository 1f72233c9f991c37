package group

import (
	"bytes"
	"cmp"
	"slices"
)

// assignment is a set of partitions by topic id; partition lists are sorted
// and unique. A nil or empty assignment is the empty set.
type assignment map[[16]byte][]int32

type tpKey struct {
	id [16]byte
	p  int32
}

func (a assignment) has(id [16]byte, p int32) bool {
	_, ok := slices.BinarySearch(a[id], p)
	return ok
}

func (a assignment) count() int {
	n := 0
	for _, ps := range a {
		n += len(ps)
	}
	return n
}

func (a assignment) each(fn func(id [16]byte, p int32)) {
	for id, ps := range a {
		for _, p := range ps {
			fn(id, p)
		}
	}
}

func (a assignment) clone() assignment {
	out := make(assignment, len(a))
	for id, ps := range a {
		out[id] = slices.Clone(ps)
	}
	return out
}

func (a assignment) equal(b assignment) bool {
	if a.count() != b.count() {
		return false
	}
	for id, ps := range a {
		if len(ps) > 0 && !slices.Equal(ps, b[id]) {
			return false
		}
	}
	return true
}

// intersects reports whether a and b share a partition.
func (a assignment) intersects(b assignment) bool {
	for id, ps := range a {
		for _, p := range ps {
			if b.has(id, p) {
				return true
			}
		}
	}
	return false
}

// add inserts p (keeping order).
func (a assignment) add(id [16]byte, p int32) {
	ps := a[id]
	i, ok := slices.BinarySearch(ps, p)
	if !ok {
		a[id] = slices.Insert(ps, i, p)
	}
}

func (a assignment) remove(id [16]byte, p int32) {
	ps := a[id]
	if i, ok := slices.BinarySearch(ps, p); ok {
		ps = slices.Delete(ps, i, i+1)
		if len(ps) == 0 {
			delete(a, id)
		} else {
			a[id] = ps
		}
	}
}

// split returns a∩b and a\b.
func (a assignment) split(b assignment) (in, out assignment) {
	in, out = assignment{}, assignment{}
	a.each(func(id [16]byte, p int32) {
		if b.has(id, p) {
			in.add(id, p)
		} else {
			out.add(id, p)
		}
	})
	return in, out
}

// sortedIDs returns the topic ids of a in byte order.
func (a assignment) sortedIDs() [][16]byte {
	ids := make([][16]byte, 0, len(a))
	for id := range a {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(x, y [16]byte) int { return bytes.Compare(x[:], y[:]) })
	return ids
}

// assignMember is an assignor's view of one member.
type assignMember struct {
	id     string
	topics [][16]byte // subscribed topics that exist
	// previous is the member's previous target, for stickiness.
	previous assignment
}

// assignor computes a target assignment (KIP-848 server-side assignors,
// Kafka's ConsumerGroupPartitionAssignor). members are sorted by id;
// partitions gives the partition count of every subscribed topic.
type assignor func(members []assignMember, partitions map[[16]byte]int32) map[string]assignment

func assignorByName(name string) assignor {
	switch name {
	case "uniform":
		return uniformAssign
	case "range":
		return rangeAssign
	}
	return nil
}

// uniformAssign spreads partitions evenly over the members subscribed to
// them, keeping each partition where it was when balance allows (Kafka's
// UniformAssignor: sticky, homogeneous or heterogeneous subscriptions).
//
// 1. every partition still subscribed by its previous owner stays;
// 2. the rest go, one by one, to the eligible member with the fewest;
// 3. while some member has two more than an eligible member for one of its
// partitions, that partition moves.
func uniformAssign(members []assignMember, partitions map[[16]byte]int32) map[string]assignment {
	out := make(map[string]assignment, len(members))
	counts := make([]int, len(members))
	subscribers := make(map[[16]byte][]int) // topic -> member indexes
	for i, m := range members {
		out[m.id] = assignment{}
		for _, t := range m.topics {
			subscribers[t] = append(subscribers[t], i)
		}
	}
	owner := make(map[tpKey]int)
	for i, m := range members {
		subscribed := make(map[[16]byte]bool, len(m.topics))
		for _, t := range m.topics {
			subscribed[t] = true
		}
		m.previous.each(func(id [16]byte, p int32) {
			k := tpKey{id, p}
			if _, taken := owner[k]; !taken && subscribed[id] && p < partitions[id] {
				owner[k] = i
				out[m.id].add(id, p)
				counts[i]++
			}
		})
	}
	topics := make([][16]byte, 0, len(subscribers))
	for t := range subscribers {
		topics = append(topics, t)
	}
	slices.SortFunc(topics, func(x, y [16]byte) int { return bytes.Compare(x[:], y[:]) })
	least := func(cands []int, except int) int {
		best := -1
		for _, i := range cands {
			if i != except && (best < 0 || counts[i] < counts[best]) {
				best = i
			}
		}
		return best
	}
	for _, t := range topics {
		for p := range partitions[t] {
			k := tpKey{t, p}
			if _, taken := owner[k]; taken {
				continue
			}
			i := least(subscribers[t], -1)
			owner[k] = i
			out[members[i].id].add(t, p)
			counts[i]++
		}
	}
	// Balance: move from the fullest members first.
	order := make([]int, len(members))
	for i := range order {
		order[i] = i
	}
	for {
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(counts[b], counts[a]) })
		moved := false
		for _, i := range order {
			a := out[members[i].id]
			for _, t := range a.sortedIDs() {
				ps := a[t]
				for k := len(ps) - 1; k >= 0 && !moved; k-- {
					j := least(subscribers[t], i)
					if j >= 0 && counts[j] < counts[i]-1 {
						p := ps[k]
						a.remove(t, p)
						out[members[j].id].add(t, p)
						counts[i]--
						counts[j]++
						moved = true
					}
				}
				if moved {
					break
				}
			}
			if moved {
				break
			}
		}
		if !moved {
			return out
		}
	}
}

// rangeAssign gives every member of a topic's subscribers a contiguous range
// of its partitions (Kafka's RangeAssignor): with n partitions and m members
// sorted by id, each gets n/m and the first n%m one more.
func rangeAssign(members []assignMember, partitions map[[16]byte]int32) map[string]assignment {
	out := make(map[string]assignment, len(members))
	subscribers := make(map[[16]byte][]string)
	for _, m := range members {
		out[m.id] = assignment{}
		for _, t := range m.topics {
			subscribers[t] = append(subscribers[t], m.id)
		}
	}
	for t, ids := range subscribers {
		n := int(partitions[t])
		per, extra := n/len(ids), n%len(ids)
		p := 0
		for i, id := range ids {
			k := per
			if i < extra {
				k++
			}
			for range k {
				out[id].add(t, int32(p))
				p++
			}
		}
	}
	return out
}
