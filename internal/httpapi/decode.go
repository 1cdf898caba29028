package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"cihui/internal/domain"
)

// decodeStrict decodes one JSON object into v, refusing unknown fields,
// wrong types and trailing data. Error messages name the field and what
// was expected, never the value sent (it may be personal data).
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return domain.Invalid(map[string]string{"": "a JSON body is required"})
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return domain.Invalid(map[string]string{"": "the body must hold exactly one JSON object"})
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return domain.Invalid(map[string]string{"": "the body is not valid JSON"})
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "."
		}
		return domain.Invalid(map[string]string{field: "must be of type " + jsonType(typ.Type.Kind().String())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return domain.Invalid(map[string]string{name: "unknown field"})
	}
	return domain.Invalid(map[string]string{"": "the body could not be read as the expected JSON object"})
}

func jsonType(kind string) string {
	switch kind {
	case "int", "int64", "int32", "uint", "uint64", "uint32", "float64":
		return "number"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	}
	return kind
}
