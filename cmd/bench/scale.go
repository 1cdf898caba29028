package main

import (
	"context"
)

// scale holds the flags of the scale figures (issue 13).
var scale struct {
	only    string
	cases   int
	profile string
}

// benchScale generates scale.cases cases into the stream and measures the
// rebuild at that size.
func benchScale(ctx context.Context, e *env, dir string) error {
	if _, err := benchRebuild(ctx, e, scale.cases, scale.profile); err != nil {
		return err
	}
	return nil
}
