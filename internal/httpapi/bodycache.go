package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"

	"cihui/internal/domain/calendar"
	"cihui/internal/events"
	"cihui/internal/projections"
)

// maxCachedBodyBytes bounds the bytes of the list bodies kept.
const maxCachedBodyBytes = 8 << 20

// bodyCache keeps the encoded bodies of case-list pages and the home-visit
// queue (issue 13): under load most list reads are one person asking again
// for the same page, and opening fifty students' sealed values and
// encoding the page was most of the API's CPU (pprof: listReferrals 59%,
// of it json encoding 24% and opening 21% of all). A body is served only
//   - to the same person in the same role (the key holds the whole actor:
//     nothing one person was shown is ever served to another),
//   - for the same query, on the same day (due dates count from today),
//   - while the read models stay at the mark it was built at: any event
//     moves the position, an erasure included, and a rebuild's switch
//     moves the generation, so no body outlives what it was read from.
//
// Each read still writes its own access record before the body is sent.
// The bodies hold what their reader may see in the clear, in this
// process's memory only (never logged or written out), at most
// maxCachedBodyBytes; all are dropped when the read models move.
type bodyCache struct {
	mu     sync.Mutex
	mark   projections.Mark
	bodies map[bodyKey]cachedBody
	bytes  int
}

type bodyKey struct {
	route  string // the handler's own name for what it answers
	filter projections.CaseFilter
	actor  events.Actor
	day    calendar.Date
	// outside is what else the body shows that is not in the read models
	// and so does not move their mark (a branch's cap, configured in its
	// own table).
	outside int
}

type cachedBody struct {
	body []byte
	ids  []string // the cases shown, for the access record
}

// get returns the body kept for key at mark.
func (bc *bodyCache) get(mark projections.Mark, key bodyKey) (cachedBody, bool) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	if bc.mark != mark {
		return cachedBody{}, false
	}
	b, ok := bc.bodies[key]
	return b, ok
}

// put keeps b for key at mark, unless the read models have moved on from
// mark: what was read there may already be stale.
func (bc *bodyCache) put(mark, now projections.Mark, key bodyKey, b cachedBody) {
	if mark != now || len(b.body) > maxCachedBodyBytes/4 {
		return
	}
	bc.mu.Lock()
	defer bc.mu.Unlock()
	if bc.mark != mark || bc.bodies == nil {
		bc.mark, bc.bodies, bc.bytes = mark, map[bodyKey]cachedBody{}, 0
	}
	if bc.bytes+len(b.body) > maxCachedBodyBytes {
		clear(bc.bodies)
		bc.bytes = 0
	}
	if old, ok := bc.bodies[key]; ok {
		bc.bytes -= len(old.body)
	}
	bc.bodies[key] = b
	bc.bytes += len(b.body)
}

// keptOrBuilt answers c with the body kept for key at the read models'
// mark, or with what build returns, kept when build says it may be (not
// when, say, the calendar could not be loaded). Either way the access
// record of the cases shown is written before the body is sent.
func (s *Server) keptOrBuilt(c echo.Context, key bodyKey, build func() (out any, ids []string, keep bool, err error)) error {
	mark := s.waiter.Mark()
	pretty := indented(c) // nothing kept is sent, nothing sent is kept
	if b, ok := s.bodies.get(mark, key); ok && !pretty {
		if err := s.recordAccess(c, b.ids...); err != nil {
			return err
		}
		return c.JSONBlob(http.StatusOK, b.body)
	}
	out, ids, keep, err := build()
	if err != nil {
		return err
	}
	if err := s.recordAccess(c, ids...); err != nil {
		return err
	}
	if pretty || !keep {
		return c.JSON(http.StatusOK, out)
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(out); err != nil { // as c.JSON encodes
		return err
	}
	s.bodies.put(mark, s.waiter.Mark(), key, cachedBody{body: buf.Bytes(), ids: ids})
	return c.JSONBlob(http.StatusOK, buf.Bytes())
}
