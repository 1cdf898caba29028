package httpapi_test

import (
	"cihui/internal/events"
	"cihui/internal/testenv"
)

func streamOf(e *testenv.Env, id string) events.StreamID {
	return events.StreamID{Branch: e.Branch.Code, Type: events.AggregateReferral, ID: id}
}
