package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"cihui/internal/config"
)

// AddrFile is what --addr-file holds while the API serves: the URLs it
// listens on, once both listeners are bound. A script that starts the
// API with --addr (or --pprof-addr) on port 0 reads the ports it got
// here, with no window in which another process could take a port it
// picked beforehand.
type AddrFile struct {
	APIURL   string `json:"api_url"`
	PprofURL string `json:"pprof_url,omitempty"`
	PID      int    `json:"pid"`
}

func (m *Main) addrFileFlags(fs *flag.FlagSet) {
	config.StringFlag(fs, &m.AddrFile, "addr-file", "CIHUI_ADDR_FILE", "",
		"once listening, write the API's URL (and the profiles', with --pprof-addr) to this file as JSON, for --addr with port 0; removed at shutdown; empty: none")
}

// writeAddrFile writes --addr-file, if asked for, and removes it when the
// API closes.
func (m *Main) writeAddrFile(apiURL string) error {
	if m.AddrFile == "" {
		return nil
	}
	b, err := json.Marshal(AddrFile{APIURL: apiURL, PprofURL: m.pprofURL, PID: os.Getpid()})
	if err != nil {
		return err
	}
	// Written whole under another name and renamed: a reader never sees
	// half a file.
	tmp := m.AddrFile + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("--addr-file: %w", err)
	}
	if err := os.Rename(tmp, m.AddrFile); err != nil {
		return fmt.Errorf("--addr-file: %w", err)
	}
	m.closers = append(m.closers, func() { _ = os.Remove(m.AddrFile) })
	return nil
}
