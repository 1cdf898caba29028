package httpapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
)

//go:embed openapi.yaml
var openapiYAML []byte

var (
	specOnce sync.Once
	spec     *openapi3.T
	specJSON []byte
	specErr  error
)

// Spec returns the API contract, loaded and validated once.
func Spec() (*openapi3.T, []byte, error) {
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		spec, specErr = loader.LoadFromData(openapiYAML)
		if specErr != nil {
			return
		}
		if specErr = spec.Validate(loader.Context); specErr != nil {
			specErr = fmt.Errorf("openapi: %w", specErr)
			return
		}
		specJSON, specErr = json.Marshal(spec)
	})
	return spec, specJSON, specErr
}

func (s *Server) openapi(c echo.Context) error {
	_, b, err := Spec()
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, b)
}
