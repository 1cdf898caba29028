package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"cihui/internal/httpapi"
)

// limitFlags defines the HTTP server's limits as flags whose defaults come
// from the environment, then from httpapi.DefaultLimits. A malformed
// environment value is an error, not a silent default.
func limitFlags(fs *flag.FlagSet, l *httpapi.Limits) error {
	*l = httpapi.DefaultLimits()
	durations := []struct {
		p           *time.Duration
		name, env   string
		description string
	}{
		{&l.ReadHeaderTimeout, "read-header-timeout", "CIHUI_READ_HEADER_TIMEOUT", "time to read a request's headers; a slower client is cut off"},
		{&l.ReadTimeout, "read-timeout", "CIHUI_READ_TIMEOUT", "time to read a whole request, body included"},
		{&l.WriteTimeout, "write-timeout", "CIHUI_WRITE_TIMEOUT", "time from the end of a request's headers to the end of the response (more than --request-timeout)"},
		{&l.IdleTimeout, "idle-timeout", "CIHUI_IDLE_TIMEOUT", "time a kept-alive connection may stay idle"},
		{&l.RequestTimeout, "request-timeout", "CIHUI_REQUEST_TIMEOUT", "deadline of a request's database and NATS calls (503 beyond)"},
	}
	for _, d := range durations {
		if s, ok := os.LookupEnv(d.env); ok {
			v, err := time.ParseDuration(s)
			if err != nil || v <= 0 {
				return fmt.Errorf("%s=%q: want a positive duration such as 30s", d.env, s)
			}
			*d.p = v
		}
		fs.DurationVar(d.p, d.name, *d.p, d.description+" (env "+d.env+")")
	}
	if s, ok := os.LookupEnv("CIHUI_MAX_HEADER_BYTES"); ok {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			return fmt.Errorf("CIHUI_MAX_HEADER_BYTES=%q: want a positive number of bytes", s)
		}
		l.MaxHeaderBytes = v
	}
	fs.IntVar(&l.MaxHeaderBytes, "max-header-bytes", l.MaxHeaderBytes, "most bytes of request line and headers (431 beyond) (env CIHUI_MAX_HEADER_BYTES)")
	return nil
}

// checkLimits refuses limits under which requests would be cut off before
// they can be answered.
func checkLimits(l httpapi.Limits) error {
	if l.ReadHeaderTimeout <= 0 || l.ReadTimeout <= 0 || l.WriteTimeout <= 0 || l.IdleTimeout <= 0 || l.RequestTimeout <= 0 || l.MaxHeaderBytes <= 0 {
		return fmt.Errorf("HTTP limits must be positive")
	}
	if l.RequestTimeout >= l.WriteTimeout {
		return fmt.Errorf("--request-timeout (%s) must be less than --write-timeout (%s), or slow requests get no answer", l.RequestTimeout, l.WriteTimeout)
	}
	return nil
}
