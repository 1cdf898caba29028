package domain

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"unsafe"
)

// TestReferralCloneSharesNothing fills every field of a referral's state,
// reached by reflection (so that a field added later is covered), and
// checks that Clone copies it all and shares no memory: changing every
// field of the copy leaves the original as it was.
func TestReferralCloneSharesNothing(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 13))
		var r Referral
		fillValue(reflect.ValueOf(&r).Elem(), rng)
		c := r.Clone()
		if !reflect.DeepEqual(&r, c) {
			t.Fatalf("seed %d: the clone differs from the original", seed)
		}
		if path := sharedMemory(reflect.ValueOf(r), reflect.ValueOf(*c), "Referral"); path != "" {
			t.Fatalf("seed %d: the clone shares %s with the original", seed, path)
		}
		before := r.Clone()
		fillValue(reflect.ValueOf(c).Elem(), rng)
		if !reflect.DeepEqual(&r, before) {
			t.Fatalf("seed %d: changing the clone changed the original", seed)
		}
	}
}

// fillValue sets every field of v, exported or not, to a random non-zero
// value; pointers are never nil, slices and maps never empty.
func fillValue(v reflect.Value, rng *rand.Rand) {
	if !v.CanSet() {
		v = reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(1 + rng.IntN(100)))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(1 + rng.IntN(100)))
	case reflect.String:
		v.SetString(string(rune('a' + rng.IntN(26))))
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillValue(p.Elem(), rng)
		v.Set(p)
	case reflect.Slice:
		n := 1 + rng.IntN(3)
		s := reflect.MakeSlice(v.Type(), n, n+rng.IntN(2))
		for i := range n {
			fillValue(s.Index(i), rng)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 1 + rng.IntN(2) {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fillValue(k, rng)
			fillValue(e, rng)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Array:
		for i := range v.Len() {
			fillValue(v.Index(i), rng)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			fillValue(v.Field(i), rng)
		}
	default:
		panic("fillValue: no filler for " + v.Type().String())
	}
}

// sharedMemory returns the path of the first pointer, slice or map of a
// that refers to the same memory as b's, or "".
func sharedMemory(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		return sharedMemory(a.Elem(), b.Elem(), path)
	case reflect.Slice:
		if a.Cap() > 0 && b.Cap() > 0 && a.Pointer() == b.Pointer() {
			return path
		}
		for i := range min(a.Len(), b.Len()) {
			if p := sharedMemory(a.Index(i), b.Index(i), path+"[i]"); p != "" {
				return p
			}
		}
	case reflect.Map:
		if !a.IsNil() && !b.IsNil() && a.Pointer() == b.Pointer() {
			return path
		}
	case reflect.Array:
		for i := range a.Len() {
			if p := sharedMemory(a.Index(i), b.Index(i), path+"[i]"); p != "" {
				return p
			}
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if p := sharedMemory(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
				return p
			}
		}
	case reflect.Interface:
		if !a.IsNil() && !b.IsNil() {
			return sharedMemory(a.Elem(), b.Elem(), path)
		}
	}
	return ""
}
