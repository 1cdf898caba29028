package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"
)

// The JetStream snapshot protocol (the API nats-server serves and the
// NATS project's jsm.go library speaks; implemented here in a page rather
// than adding that library and its dependencies for two calls):
//
//   - snapshot: a request to $JS.API.STREAM.SNAPSHOT.<stream> names a
//     delivery subject; the server answers with the stream's config and
//     state and sends the snapshot there in chunks. A chunk with a reply
//     subject is acknowledged by publishing to it (flow control); an empty
//     message ends the snapshot, its status header telling success (none
//     or 204) from failure.
//   - restore: a request to $JS.API.STREAM.RESTORE.<stream> with the
//     config and state answers with a delivery subject; every chunk is a
//     request to it (an empty reply acknowledges it); an empty request ends
//     the restore and is answered with the stream-create response.
const (
	chunkSize      = 128 * 1024
	chunkTimeout   = 30 * time.Second
	restoreTimeout = 10 * time.Minute
)

type apiError struct {
	Code        int    `json:"code"`
	ErrCode     int    `json:"err_code"`
	Description string `json:"description"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s (%d/%d)", e.Description, e.Code, e.ErrCode)
}

// streamState is the part of a stream's state the manifest records.
type streamState struct {
	Messages uint64 `json:"messages"`
	Bytes    uint64 `json:"bytes"`
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
}

type snapshotResponse struct {
	Error  *apiError       `json:"error"`
	Config json.RawMessage `json:"config"`
	State  json.RawMessage `json:"state"`
}

// snapshot writes a snapshot of stream to w (the server's own format: an
// S2-compressed archive of the stream's files, checked by the server
// message by message first) and returns the stream's config and state
// as the server saw them at the snapshot.
func snapshot(ctx context.Context, nc *nats.Conn, stream string, w io.Writer) (snapshotResponse, error) {
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return snapshotResponse{}, err
	}
	defer func() { _ = sub.Unsubscribe() }()
	_ = sub.SetPendingLimits(-1, -1)
	req, _ := json.Marshal(map[string]any{"deliver_subject": inbox, "no_consumers": true, "chunk_size": chunkSize, "jsck": true})
	rctx, cancel := context.WithTimeout(ctx, chunkTimeout)
	defer cancel()
	msg, err := nc.RequestWithContext(rctx, "$JS.API.STREAM.SNAPSHOT."+stream, req)
	if err != nil {
		return snapshotResponse{}, fmt.Errorf("snapshot of %s: %w", stream, err)
	}
	var resp snapshotResponse
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return snapshotResponse{}, fmt.Errorf("snapshot of %s: %w", stream, err)
	}
	if resp.Error != nil {
		return snapshotResponse{}, fmt.Errorf("snapshot of %s: %w", stream, resp.Error)
	}
	for {
		cctx, cancel := context.WithTimeout(ctx, chunkTimeout)
		m, err := sub.NextMsgWithContext(cctx)
		cancel()
		if err != nil {
			return snapshotResponse{}, fmt.Errorf("snapshot of %s: waiting for a chunk: %w", stream, err)
		}
		if len(m.Data) == 0 {
			if st := m.Header.Get("Status"); st != "" && st != "204" {
				return snapshotResponse{}, fmt.Errorf("snapshot of %s: the server failed: %s %s", stream, st, m.Header.Get("Description"))
			}
			return resp, nil
		}
		if _, err := w.Write(m.Data); err != nil {
			return snapshotResponse{}, err
		}
		if m.Reply != "" {
			if err := m.Respond(nil); err != nil {
				return snapshotResponse{}, err
			}
		}
	}
}

// restore creates stream from a snapshot read from r, with the config and
// state the snapshot was taken with. The server refuses if the stream
// exists.
func restore(ctx context.Context, nc *nats.Conn, stream string, config, state json.RawMessage, r io.Reader) error {
	req, _ := json.Marshal(map[string]json.RawMessage{"config": config, "state": state})
	rctx, cancel := context.WithTimeout(ctx, chunkTimeout)
	defer cancel()
	msg, err := nc.RequestWithContext(rctx, "$JS.API.STREAM.RESTORE."+stream, req)
	if err != nil {
		return fmt.Errorf("restore of %s: %w", stream, err)
	}
	var resp struct {
		Error          *apiError `json:"error"`
		DeliverSubject string    `json:"deliver_subject"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return fmt.Errorf("restore of %s: %w", stream, err)
	}
	if resp.Error != nil {
		return fmt.Errorf("restore of %s: %w", stream, resp.Error)
	}
	buf := make([]byte, chunkSize)
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			cctx, cancel := context.WithTimeout(ctx, chunkTimeout)
			ack, err := nc.RequestWithContext(cctx, resp.DeliverSubject, buf[:n])
			cancel()
			if err != nil {
				return fmt.Errorf("restore of %s: sending a chunk: %w", stream, err)
			}
			if err := responseError(ack.Data); err != nil {
				return fmt.Errorf("restore of %s: %w", stream, err)
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	dctx, cancel := context.WithTimeout(ctx, restoreTimeout)
	defer cancel()
	done, err := nc.RequestWithContext(dctx, resp.DeliverSubject, nil)
	if err != nil {
		return fmt.Errorf("restore of %s: finishing: %w", stream, err)
	}
	if err := responseError(done.Data); err != nil {
		return fmt.Errorf("restore of %s: %w", stream, err)
	}
	return nil
}

func responseError(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	var r struct {
		Error *apiError `json:"error"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("unexpected reply %.80q", b)
	}
	if r.Error != nil {
		return r.Error
	}
	return nil
}

// streamExists reports whether stream exists and how many messages it
// holds.
func streamInfo(ctx context.Context, nc *nats.Conn, stream string) (exists bool, st streamState, err error) {
	rctx, cancel := context.WithTimeout(ctx, chunkTimeout)
	defer cancel()
	msg, err := nc.RequestWithContext(rctx, "$JS.API.STREAM.INFO."+stream, nil)
	if err != nil {
		return false, st, fmt.Errorf("stream %s: %w", stream, err)
	}
	var resp struct {
		Error *apiError   `json:"error"`
		State streamState `json:"state"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return false, st, err
	}
	if resp.Error != nil {
		if resp.Error.ErrCode == 10059 { // stream not found
			return false, st, nil
		}
		return false, st, fmt.Errorf("stream %s: %w", stream, resp.Error)
	}
	return true, resp.State, nil
}
