package httpapi

import (
	"crypto/rand"
	"encoding/json"
	"reflect"
	"testing"

	"cihui/internal/events"
)

// TestParseSealedAgreesWithEncodingJSON: the hand-written reader of a
// stored sealed value gives what encoding/json gives, for what the read
// models store and for JSON it does not expect (which it hands over).
func TestParseSealedAgreesWithEncodingJSON(t *testing.T) {
	var inputs [][]byte
	for n := range 40 {
		nonce, ct := make([]byte, 12), make([]byte, n*7)
		_, _ = rand.Read(nonce)
		_, _ = rand.Read(ct)
		b, err := json.Marshal(events.Sealed{KeyID: events.NewKeyID(), Nonce: nonce, Ciphertext: ct})
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, b)
	}
	inputs = append(inputs,
		[]byte(`{ "kid": "p_1", "nonce": "AAEC", "ct": "AwQF" }`),
		[]byte(`{"nonce":"AAEC","kid":"p_1","ct":"AwQF"}`),
		[]byte(`{"kid":"p_\u0031","nonce":"AAEC","ct":"AwQF"}`),
		[]byte(`{"kid":"p_1","nonce":"AAEC","ct":"AwQF","extra":1}`),
		[]byte(`{"kid":"p_1","nonce":"!!","ct":"AwQF"}`),
		[]byte(`{"kid":"p_1","nonce":"AAEC","ct":"AwQF"`),
	)
	for _, in := range inputs {
		var want events.Sealed
		wantErr := json.Unmarshal(in, &want)
		got, err := parseSealed(in)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("%s: error %v, encoding/json %v", in, err, wantErr)
		}
		if err == nil && !reflect.DeepEqual(normal(got), normal(want)) {
			t.Fatalf("%s: got %+v, encoding/json %+v", in, got, want)
		}
	}
}

// normal treats an empty slice as nil, as JSON cannot tell them apart.
func normal(s events.Sealed) events.Sealed {
	if len(s.Nonce) == 0 {
		s.Nonce = nil
	}
	if len(s.Ciphertext) == 0 {
		s.Ciphertext = nil
	}
	return s
}
