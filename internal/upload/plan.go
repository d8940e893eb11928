package upload

// Limits are a service's multipart (or block) limits.
type Limits struct {
	// Service names the service in errors ("S3", "Azure").
	Service string
	// MinPart is the smallest part but the last; MaxPart the largest part.
	MinPart, MaxPart int64
	// MaxParts is the most parts one upload may have.
	MaxParts int
	// MaxObject is the largest object the service stores.
	MaxObject int64
	// PlanObject is the largest stream of unknown size that the parts'
	// plan makes room for (see plan); 0 means MaxObject. A service with
	// few parts (GCS compose: 1,024) plans for less than it stores, so
	// that parts do not double at almost every part; a stream past the
	// plan fails when the parts run out, and a source of known size is
	// cut in equal parts that fit it whatever its size (see Writer).
	PlanObject int64
}

// plan sizes the parts of a stream whose length is unknown. Parts start at
// base and double every step parts (capped at MaxPart), step being the
// largest that still lets MaxParts parts hold MaxObject: a small upload
// keeps the part size it asked for, and the largest object the service
// takes still fits.
type plan struct {
	base, max int64
	step      int
}

// newPlan returns the plan for parts of base bytes, base within the limits.
// Capacity only shrinks as step grows (parts double later), so the step is
// found by binary search: every write makes a plan, and the scan down from
// MaxParts it replaced cost a small file's upload 80 µs.
func newPlan(base int64, l Limits) plan {
	if l.PlanObject > 0 {
		l.MaxObject = l.PlanObject
	}
	lo, hi := 1, l.MaxParts // capacity(lo) is taken to hold; find the largest that does
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if capacity(base, mid, l) >= l.MaxObject {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return plan{base: base, max: l.MaxPart, step: lo}
}

// capacity is how many bytes MaxParts parts hold when they start at base
// and double every step parts.
func capacity(base int64, step int, l Limits) int64 {
	var total int64
	for first := 0; first < l.MaxParts; first += step {
		n := min(step, l.MaxParts-first)
		total += int64(n) * grow(base, l.MaxPart, first/step)
		if total >= l.MaxObject {
			return total
		}
	}
	return total
}

func grow(base, maxPart int64, doublings int) int64 {
	s := base
	for range doublings {
		if s >= maxPart/2 {
			return maxPart
		}
		s *= 2
	}
	return min(s, maxPart)
}

// size is the size of part i (0-based).
func (p plan) size(i int) int64 { return grow(p.base, p.max, i/p.step) }

// equalParts is the part size that cuts total bytes into at most
// l.MaxParts equal parts (but the last): base, or the least multiple of
// base that needs no more parts than that, at most MaxPart.
func equalParts(base, total int64, l Limits) int64 {
	need := (total + int64(l.MaxParts) - 1) / int64(l.MaxParts)
	if need <= base {
		return base
	}
	return min((need+base-1)/base*base, l.MaxPart)
}
