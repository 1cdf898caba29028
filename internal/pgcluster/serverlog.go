package pgcluster

import (
	"io"
	"os"
	"time"
)

// follower copies what the server appends to its log file to a writer,
// like tail -f.
type follower struct {
	quit chan struct{}
	done chan struct{}
}

// startFollower copies the file at path, from offset off, to w until
// stop is called. The file need not exist yet.
func startFollower(path string, off int64, w io.Writer) *follower {
	f := &follower{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(f.done)
		var file *os.File
		defer func() {
			if file != nil {
				file.Close()
			}
		}()
		copyNew := func() {
			if file == nil {
				var err error
				if file, err = os.Open(path); err != nil {
					file = nil
					return
				}
				if _, err := file.Seek(off, io.SeekStart); err != nil {
					file.Close()
					file = nil
					return
				}
			}
			_, _ = io.Copy(w, file)
		}
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-f.quit:
				copyNew()
				return
			case <-tick.C:
				copyNew()
			}
		}
	}()
	return f
}

// stop copies what remains and stops copying. A nil follower does
// nothing.
func (f *follower) stop() {
	if f == nil {
		return
	}
	select {
	case <-f.quit:
	default:
		close(f.quit)
	}
	<-f.done
}

// readFrom returns the content of the file at path from offset off.
func readFrom(path string, off int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	return string(b)
}

// rotate moves the file at path to path.old when it exceeds limit bytes.
func rotate(path string, limit int64) {
	if st, err := os.Stat(path); err == nil && st.Size() > limit {
		_ = os.Rename(path, path+".old")
	}
}
