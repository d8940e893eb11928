package all_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/anyblob/anyblob/blob"
	"github.com/anyblob/anyblob/blobtest/faultproxy"
)

// The soak test's knobs. The test command runs the short default; a long
// run is, for example:
//
//	go test ./providers/all -run TestSoak -v -timeout 2h -soak.ops=1500
var (
	soakOps     = flag.Int("soak.ops", 40, "soak test: operations per worker per backend")
	soakWorkers = flag.Int("soak.workers", 6, "soak test: concurrent workers per backend")
	soakSeed    = flag.Uint64("soak.seed", 1, "soak test: seed of the faults and the operations")
	soakRate    = flag.Float64("soak.rate", 0.12, "soak test: fraction of requests that meet a fault")
)

// sentinels are blob's error kinds; every error a bucket returns matches
// exactly one.
var sentinels = []error{
	blob.ErrNotFound, blob.ErrPreconditionFailed, blob.ErrPermissionDenied, blob.ErrUnauthenticated,
	blob.ErrInvalidArgument, blob.ErrNotImplemented, blob.ErrThrottled, blob.ErrCanceled, blob.ErrInternal,
}

// kindOf is the one sentinel err matches, or "" when it matches none or
// several.
func kindOf(err error) string {
	var found []error
	for _, s := range sentinels {
		if errors.Is(err, s) {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		return ""
	}
	return found[0].Error()
}

// soakContent is version v of key: a header naming both and the size,
// then bytes derived from them, so that any read can be told to be a whole
// version, a part of one, or no version at all.
func soakContent(key string, v, size int) []byte {
	head := fmt.Sprintf("soak %s v%d n%d\n", key, v, size)
	b := make([]byte, max(size, len(head)))
	copy(b, head)
	h := fnv.New64a()
	h.Write([]byte(head))
	x := h.Sum64()
	for i := len(head); i < len(b); i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}

// soakVersion parses the header of content of key; ok is false when it is
// none of key's versions.
func soakVersion(key string, content []byte) (v, size int, ok bool) {
	line, _, found := bytes.Cut(content, []byte("\n"))
	if !found {
		return 0, 0, false
	}
	f := strings.Fields(string(line))
	if len(f) != 4 || f[0] != "soak" || f[1] != key {
		return 0, 0, false
	}
	v, err1 := strconv.Atoi(strings.TrimPrefix(f[2], "v"))
	size, err2 := strconv.Atoi(strings.TrimPrefix(f[3], "n"))
	return v, size, err1 == nil && err2 == nil
}

// keyModel is what a key may hold: the version last acknowledged (0:
// absent) and the ones whose write or delete failed (0 for a delete),
// which may or may not have taken effect. A worker owns its keys, so their
// operations are sequential and each has settled when it returns.
type keyModel struct {
	ack     int
	pending []int
	sizes   map[int]int
}

func (m *keyModel) allowed() []int { return append([]int{m.ack}, m.pending...) }

func (m *keyModel) allows(v int) bool { return slices.Contains(m.allowed(), v) }

// observe records that the key was seen holding v (allowed): every
// operation after v's did not take effect.
func (m *keyModel) observe(v int) { m.ack, m.pending = v, nil }

// soakStats are one backend's figures.
type soakStats struct {
	mu                 sync.Mutex
	ops, failedOps     int
	byOp               map[string]int
	errKinds           map[string]int
	checked            int // reads, ranges and attributes compared with the model
	partial            int // a read that was part of a version, or of none
	silentWrong        int // a read that succeeded with bytes no allowed version has
	violations         []string
	counterAcked       atomic.Int64
	counterConflicts   atomic.Int64
	counterAmbiguous   atomic.Int64
	counterOwnConflict atomic.Int64 // a write reported as a conflict that was ours
}

func (s *soakStats) op(name string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops++
	s.byOp[name]++
	if err != nil {
		s.failedOps++
		k := kindOf(err)
		if k == "" {
			s.violations = append(s.violations, fmt.Sprintf("%s: error matches no single sentinel: %v", name, err))
			k = "none"
		}
		s.errKinds[k]++
		if errors.Is(err, blob.ErrCanceled) {
			s.violations = append(s.violations, fmt.Sprintf("%s: ErrCanceled though nothing was canceled: %v", name, err))
		}
	}
}

func (s *soakStats) violate(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.violations = append(s.violations, fmt.Sprintf(format, args...))
}

// bad counts a wrong outcome in *n and records it.
func (s *soakStats) bad(n *int, format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*n++
	s.violations = append(s.violations, fmt.Sprintf(format, args...))
}

func (s *soakStats) check() {
	s.mu.Lock()
	s.checked++
	s.mu.Unlock()
}

// TestSoak runs mixed operations from concurrent workers against MinIO,
// Azurite and fake-gcs-server through the fault proxy (seeded random
// faults on a fraction of all requests: 500, 503, resets on either side,
// bodies cut short, stalls, and bytes flipped in object data either way),
// and checks every outcome against a model of what each key may hold:
// every acknowledged write reads back exactly, no read returns part of an
// object or bytes no version had, every error matches exactly one
// sentinel and none is ErrCanceled, IfMatch read-modify-write loses no
// update, and no multipart upload is left behind.
func TestSoak(t *testing.T) {
	for _, fb := range faultyBackends(t, "soak", *soakSeed) {
		t.Run(fb.name, func(t *testing.T) {
			soak(t, fb)
		})
	}
}

func soak(t *testing.T, fb *faulty) {
	ctx := context.Background()
	p := fb.proxy
	p.StallFor = 200 * time.Millisecond
	data := func(r *http.Request, k faultproxy.Kind) bool {
		// Bytes flipped where no checksum covers them (a listing, a
		// commit's XML, metadata JSON) would change what TLS protects in
		// real use; flips go to object data, as the checks promise.
		// A range read is verified only where the service sends a
		// checksum for it (Azure); on S3 and GCS only full reads are.
		switch k {
		case faultproxy.FlipByte:
			return fb.isRead(r) && (fb.rangesChecked || r.Header.Get("Range") == "")
		case faultproxy.FlipRequest:
			return fb.isWrite(r)
		}
		return true
	}
	b := fb.open(t, blob.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond})
	st := &soakStats{byOp: map[string]int{}, errKinds: map[string]int{}}
	var version atomic.Int64
	counterKey := "counter"
	require.NoError(t, blob.WriteAll(ctx, fb.direct, counterKey, []byte("0 init"), nil))

	p.Random(*soakRate, data)
	start := time.Now()
	var wg sync.WaitGroup
	models := make([]map[string]*keyModel, *soakWorkers)
	for w := range *soakWorkers {
		models[w] = map[string]*keyModel{}
		for i := range 4 {
			models[w][fmt.Sprintf("w%d-k%d", w, i)] = &keyModel{sizes: map[int]int{0: -1}}
		}
		wg.Add(1)
		go func(w int, keys map[string]*keyModel) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(*soakSeed, uint64(w)))
			names := make([]string, 0, len(keys))
			for k := range keys {
				names = append(names, k)
			}
			sort.Strings(names)
			for range *soakOps {
				key := names[rng.IntN(len(names))]
				soakOp(ctx, b, fb, st, rng, fmt.Sprintf("w%d-", w), key, keys, &version, counterKey)
			}
		}(w, models[w])
	}
	wg.Wait()
	elapsed := time.Since(start)
	p.Clear()

	// Every key, read straight from the emulator, holds what it may.
	for _, keys := range models {
		for key, m := range keys {
			got, err := blob.ReadAll(ctx, fb.direct, key)
			v := 0
			if err == nil {
				var ok bool
				v, _, ok = soakVersion(key, got)
				require.True(t, ok, "%s holds no version of itself", key)
				require.True(t, bytes.Equal(soakContent(key, v, m.sizes[v]), got), "%s: version %d not whole", key, v)
			} else {
				require.ErrorIs(t, err, blob.ErrNotFound)
			}
			require.True(t, m.allows(v), "%s holds v%d; allowed %v", key, v, m.allowed())
			st.check()
		}
	}
	// No update of the counter was lost.
	got, err := blob.ReadAll(ctx, fb.direct, counterKey)
	require.NoError(t, err)
	final, _ := strconv.Atoi(strings.Fields(string(got))[0])
	acked := st.counterAcked.Load()
	lost := max(0, acked-int64(final))
	uncertain := st.counterAmbiguous.Load() + st.counterConflicts.Load()
	require.GreaterOrEqual(t, int64(final), acked, "lost updates: %d", lost)
	require.LessOrEqual(t, int64(final), acked+uncertain, "more increments than were tried")
	orphans := "not listable"
	if fb.uploads != nil {
		n := fb.uploads(t)
		orphans = strconv.Itoa(n)
		require.Zero(t, n, "orphaned multipart uploads")
	}

	struck := p.Struck()
	kinds := make([]string, 0, len(struck))
	for k, n := range struck {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(kinds)
	t.Logf("%s: seed %d, %d workers x %d ops in %v; %d requests, %d faults injected (%s)",
		fb.name, *soakSeed, *soakWorkers, *soakOps, elapsed.Round(time.Millisecond), p.Requests(), p.Total(), strings.Join(kinds, " "))
	t.Logf("%s: ops %v, %d failed, errors by kind %v", fb.name, st.byOp, st.failedOps, st.errKinds)
	t.Logf("%s: %d outcomes checked; partial objects %d, silent wrong reads %d, orphans %s, counter %d (acked %d, lost updates %d, own writes reported as conflicts %d)",
		fb.name, st.checked, st.partial, st.silentWrong, orphans, final, acked, lost, st.counterOwnConflict.Load())
	for i, v := range st.violations {
		if i == 20 {
			t.Logf("... and %d more", len(st.violations)-i)
			break
		}
		t.Logf("violation: %s", v)
	}
	require.Zero(t, st.partial, "partial objects")
	require.Zero(t, st.silentWrong, "silent wrong reads")
	require.Empty(t, st.violations)
	require.Greater(t, p.Total(), 0, "faults were injected")
}

// soakOp makes one random operation on key (or the shared counter) and
// checks its outcome against the model.
func soakOp(ctx context.Context, b blob.Bucket, fb *faulty, st *soakStats, rng *rand.Rand, prefix, key string, keys map[string]*keyModel, version *atomic.Int64, counterKey string) {
	m := keys[key]
	switch n := rng.IntN(100); {
	case n < 30: // write
		v := int(version.Add(1))
		size := 1 + rng.IntN(64<<10)
		if rng.IntN(10) == 0 {
			size = 2*fb.partSize + rng.IntN(fb.partSize)
		}
		m.sizes[v] = size
		err := blob.WriteAll(ctx, b, key, soakContent(key, v, size), &blob.WriterOptions{PartSize: int64(fb.partSize)})
		st.op("write", err)
		if err == nil {
			m.ack, m.pending = v, nil
		} else {
			m.pending = append(m.pending, v)
			if fb.failedWriteMayDelete {
				m.pending = append(m.pending, 0)
			}
		}
	case n < 55: // read
		got, err := blob.ReadAll(ctx, b, key)
		st.op("read", err)
		if err != nil {
			if errors.Is(err, blob.ErrNotFound) {
				if !m.allows(0) {
					st.violate("read %s: not found, but it may only hold %v", key, m.allowed())
				} else {
					m.observe(0)
				}
			}
			return
		}
		st.check()
		v, size, ok := soakVersion(key, got)
		var want []byte
		if ok {
			want = soakContent(key, v, size)
		}
		switch {
		case !ok || len(got) != len(want):
			st.bad(&st.partial, "read %s: %d bytes that are no whole version", key, len(got))
		case !bytes.Equal(want, got):
			st.bad(&st.silentWrong, "read %s: v%d with wrong bytes", key, v)
		case !m.allows(v):
			st.violate("read %s: v%d, but it may only hold %v", key, v, m.allowed())
		default:
			m.observe(v)
		}
	case n < 65: // a range
		off, length := int64(rng.IntN(70<<10)), int64(1+rng.IntN(32<<10))
		r, err := b.NewRangeReader(ctx, key, off, length, nil)
		var got []byte
		if err == nil {
			got, err = io.ReadAll(r)
			r.Close()
		}
		st.op("range", err)
		if err != nil {
			return
		}
		st.check()
		for _, v := range m.allowed() {
			if v == 0 {
				continue
			}
			full := soakContent(key, v, m.sizes[v])
			if off >= int64(len(full)) && len(got) == 0 {
				return
			}
			if off < int64(len(full)) && bytes.Equal(full[off:min(int64(len(full)), off+length)], got) {
				return
			}
		}
		st.bad(&st.silentWrong, "range %s %d+%d: %d bytes of no allowed version %v", key, off, length, len(got), m.allowed())
	case n < 72: // attributes
		a, err := b.Attributes(ctx, key)
		st.op("attributes", err)
		if err == nil {
			st.check()
			ok := false
			for _, v := range m.allowed() {
				ok = ok || v != 0 && int64(len(soakContent(key, v, m.sizes[v]))) == a.Size
			}
			if !ok {
				st.violate("attributes %s: size %d of no allowed version %v", key, a.Size, m.allowed())
			}
		} else if errors.Is(err, blob.ErrNotFound) && !m.allows(0) {
			st.violate("attributes %s: not found, but it may only hold %v", key, m.allowed())
		}
	case n < 80: // list the worker's keys
		page, err := b.List(ctx, &blob.ListOptions{Prefix: prefix})
		st.op("list", err)
		if err != nil {
			return
		}
		st.check()
		listed := map[string]bool{}
		for _, o := range page.Objects {
			listed[o.Key] = true
		}
		for k, km := range keys {
			present := slices.ContainsFunc(km.allowed(), func(v int) bool { return v != 0 })
			if listed[k] && !present || !listed[k] && !km.allows(0) {
				st.violate("list: %s listed %v, may hold %v", k, listed[k], km.allowed())
			}
		}
	case n < 88: // delete
		err := b.Delete(ctx, key)
		st.op("delete", err)
		if err == nil {
			m.ack, m.pending = 0, nil
		} else {
			m.pending = append(m.pending, 0)
		}
	default: // IfMatch read-modify-write of the shared counter
		r, err := b.NewReader(ctx, counterKey, nil)
		var got []byte
		if err == nil {
			got, err = io.ReadAll(r)
			r.Close()
		}
		st.op("counter-read", err)
		if err != nil {
			return
		}
		f := strings.Fields(string(got))
		value, _ := strconv.Atoi(f[0])
		mine := fmt.Sprintf("%d %s%d", value+1, prefix, rng.Int64())
		err = blob.WriteAll(ctx, b, counterKey, []byte(mine), &blob.WriterOptions{IfMatch: r.Attrs().ETag})
		if errors.Is(err, blob.ErrPreconditionFailed) {
			st.counterConflicts.Add(1)
			// Was it ours after all (an answer lost, the retry refused)?
			if now, rerr := blob.ReadAll(ctx, fb.direct, counterKey); rerr == nil && string(now) == mine {
				st.counterOwnConflict.Add(1)
			}
			st.op("counter-write", nil)
			return
		}
		st.op("counter-write", err)
		if err == nil {
			st.counterAcked.Add(1)
		} else {
			st.counterAmbiguous.Add(1)
		}
	}
}
