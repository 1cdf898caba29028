package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"

	"cihui/internal/events"
)

// parseSealed reads a stored sealed value. The read models store
// events.Sealed as json.Marshal writes it, {"kid":"…","nonce":"…","ct":"…"},
// which is read here without reflection: under load, decoding it with
// encoding/json was a third of opening a value (pprof). Anything else is
// left to encoding/json.
func parseSealed(raw []byte) (events.Sealed, error) {
	var s events.Sealed
	rest, ok := bytes.CutPrefix(raw, []byte(`{"kid":"`))
	if ok {
		var kid, nonce, ct []byte
		if kid, rest, ok = bytes.Cut(rest, []byte(`","nonce":"`)); ok {
			if nonce, rest, ok = bytes.Cut(rest, []byte(`","ct":"`)); ok {
				ct, ok = bytes.CutSuffix(rest, []byte(`"}`))
			}
		}
		if ok && plain(kid) && plain(nonce) && plain(ct) {
			s.KeyID = string(kid)
			var err1, err2 error
			s.Nonce, err1 = decodeBase64(nonce)
			s.Ciphertext, err2 = decodeBase64(ct)
			if err1 == nil && err2 == nil {
				return s, nil
			}
		}
	}
	s = events.Sealed{}
	err := json.Unmarshal(raw, &s)
	return s, err
}

// plain reports whether b needs no JSON unescaping and ends no string.
func plain(b []byte) bool {
	return bytes.IndexByte(b, '\\') < 0 && bytes.IndexByte(b, '"') < 0
}

func decodeBase64(b []byte) ([]byte, error) {
	out := make([]byte, base64.StdEncoding.DecodedLen(len(b)))
	n, err := base64.StdEncoding.Decode(out, b)
	return out[:n], err
}
