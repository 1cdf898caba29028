package httpapi

import (
	"bytes"

	"github.com/labstack/echo/v4"
)

// noBody checks that an admin action that takes no body got none, or an
// empty JSON object: anything else is 422, and changes nothing.
func noBody(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	var none struct{}
	return decodeStrict(body, &none)
}
