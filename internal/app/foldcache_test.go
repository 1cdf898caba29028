package app

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"
	"unsafe"

	"cihui/internal/domain"
	"cihui/internal/events"
)

// payloadTypes are the types of every registered event, found by
// decoding an empty payload of each.
func payloadTypes(t *testing.T) []reflect.Type {
	t.Helper()
	reg := events.DefaultRegistry()
	codec := events.NewCodec(reg)
	var types []reflect.Type
	for _, name := range reg.Types() {
		v, _ := reg.Version(name)
		env, err := codec.Decode(fmt.Appendf(nil, `{"type":%q,"schema_version":%d,"data":{}}`, name, v))
		if err != nil {
			t.Fatalf("decoding an empty %s: %v", name, err)
		}
		types = append(types, reflect.TypeOf(env.Payload))
	}
	if len(types) < 30 {
		t.Fatalf("only %d event types registered", len(types))
	}
	return types
}

// randomHistory is a referral's stream: opened, then n random events of
// any registered type with random fields (small numbers, so that items
// and episodes name existing ones now and then).
func randomHistory(rng *rand.Rand, types []reflect.Type, n int) []events.Envelope {
	opened := events.ReferralOpened{}
	fillRandom(reflect.ValueOf(&opened).Elem(), rng)
	evs := []events.Envelope{{Version: 1, Position: 1 + rng.Uint64N(5), Branch: "b1", Payload: opened}}
	for i := range n {
		p := reflect.New(types[rng.IntN(len(types))]).Elem()
		fillRandom(p, rng)
		evs = append(evs, events.Envelope{Version: uint64(i + 2), Position: evs[i].Position + 1 + rng.Uint64N(3),
			Branch: "b1", Payload: p.Interface().(events.Event)})
	}
	return evs
}

// TestFoldCacheEqualsFreshFold: whatever prefixes of a stream commands
// load, in any order (a stale cache, a concurrent command ahead), the
// cached fold hands out the state a fresh fold of that prefix gives; and
// what a command does to its copy never reaches the cache.
func TestFoldCacheEqualsFreshFold(t *testing.T) {
	types := payloadTypes(t)
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 13))
		evs := randomHistory(rng, types, 1+rng.IntN(60))
		var c referralFolds
		l := 0
		for step := range 40 {
			switch rng.IntN(4) {
			case 0: // a load behind the last one
				l = rng.IntN(len(evs) + 1)
			default: // moving on
				l = min(len(evs), l+rng.IntN(4))
			}
			prefix := events.Loaded{Events: evs[:l:l], Version: uint64(l)}
			got := c.fold("k", prefix)
			if want := freshFold(evs[:l]); !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d step %d (%d of %d events): the cached fold differs from a fresh fold", seed, step, l, len(evs))
			}
			scramble(reflect.ValueOf(got).Elem(), rng) // a decision that changes its state in place
		}
	}
}

// TestFoldCacheConcurrentCommands folds one case from many goroutines at
// once, each changing its copy: run with -race, it shows that no copy
// shares memory with the cache or another copy, and every fold is right.
func TestFoldCacheConcurrentCommands(t *testing.T) {
	types := payloadTypes(t)
	rng := rand.New(rand.NewPCG(7, 13))
	evs := randomHistory(rng, types, 80)
	want := make([]*domain.Referral, len(evs)+1)
	for l := range want {
		want[l] = freshFold(evs[:l])
	}
	var c referralFolds
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 300 {
				l := rng.IntN(len(evs) + 1)
				got := c.fold("k", events.Loaded{Events: evs[:l:l], Version: uint64(l)})
				if !reflect.DeepEqual(got, want[l]) {
					errs <- fmt.Sprintf("goroutine %d: the fold of %d events differs", g, l)
					return
				}
				scramble(reflect.ValueOf(got).Elem(), rng)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// fillRandom sets every field of v, exported or not, to a random value:
// numbers 0–3, short strings, pointers set or nil, slices and maps of up
// to two elements.
func fillRandom(v reflect.Value, rng *rand.Rand) {
	if !v.CanSet() {
		v = reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(rng.IntN(4)))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(rng.IntN(4)))
	case reflect.String:
		v.SetString([]string{"", "a", "home", "contact", "visit", "interview", "recommended", "to_discuss"}[rng.IntN(8)])
	case reflect.Pointer:
		v.SetZero()
		if rng.IntN(2) == 0 {
			p := reflect.New(v.Type().Elem())
			fillRandom(p.Elem(), rng)
			v.Set(p)
		}
	case reflect.Slice:
		v.SetZero()
		if n := rng.IntN(3); n > 0 {
			s := reflect.MakeSlice(v.Type(), n, n)
			for i := range n {
				fillRandom(s.Index(i), rng)
			}
			v.Set(s)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range rng.IntN(3) {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fillRandom(k, rng)
			fillRandom(e, rng)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Array:
		for i := range v.Len() {
			fillRandom(v.Index(i), rng)
		}
	case reflect.Struct:
		if v.Type().String() == "time.Time" {
			v.Set(reflect.ValueOf(time0.AddDate(0, 0, rng.IntN(400))))
			return
		}
		for i := range v.NumField() {
			fillRandom(v.Field(i), rng)
		}
	case reflect.Interface:
		v.SetZero()
	default:
		panic("fillRandom: no filler for " + v.Type().String())
	}
}

var time0 = time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)

// scramble changes v in place, through its pointers, slices and maps:
// the worst a decision could do to the state it was given.
func scramble(v reflect.Value, rng *rand.Rand) {
	if !v.CanSet() {
		v = reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			scramble(v.Elem(), rng)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			scramble(v.Index(i), rng)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			fillRandom(e, rng)
			v.SetMapIndex(k, e)
		}
	case reflect.Struct:
		if v.Type().String() == "time.Time" {
			fillRandom(v, rng)
			return
		}
		for i := range v.NumField() {
			scramble(v.Field(i), rng)
		}
	case reflect.Interface:
	default:
		fillRandom(v, rng)
	}
}
